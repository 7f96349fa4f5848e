"""The import scan behind the code hashes (kpi/codehash.py): a regular expression, checked against
Python's own parser on every module of the package and on hostile layouts."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from kpi.codehash import imported_modules, module_closure
from kpi.paths import PACKAGE_DIR


def _ast_imports(text: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


@pytest.mark.parametrize("path", sorted(PACKAGE_DIR.rglob("*.py")), ids=lambda p: p.relative_to(PACKAGE_DIR).as_posix())
def test_the_scan_finds_every_import_the_parser_finds(path):
    assert _ast_imports(path.read_text(encoding="utf-8")) <= set(imported_modules(path, path.stat().st_mtime_ns))


def test_hostile_layouts(tmp_path):
    text = '''"""Docstring."""
import kpi.a, kpi.b as bee
from kpi.c import (d,  # a comment, with a comma
    e as eee,
    f)
from kpi.g import h, \\
    i
def late():
    import kpi.j
    from kpi.k import l  # noqa
    if True:
        from kpi import m
from . import relative
x = 1  # import kpi.not_an_import
'''
    path = tmp_path / "hostile.py"
    path.write_text(text)
    found = set(imported_modules(path, path.stat().st_mtime_ns))
    assert _ast_imports(text) <= found
    assert {"kpi.a", "kpi.b", "kpi.c.d", "kpi.c.e", "kpi.c.f", "kpi.g.h", "kpi.g.i", "kpi.j", "kpi.k.l",
            "kpi.m"} <= found
    assert "kpi.not_an_import" not in found and "relative" not in found


def test_the_closures_the_hashes_use_are_the_parsers():
    def closure(*roots: str) -> set[Path]:
        seen: dict[str, Path] = {}
        todo = list(roots)
        while todo:
            module = todo.pop()
            parts = module.split(".")
            if module in seen or parts[0] != "kpi" or len(parts) == 1:
                continue
            rel = Path(*parts[1:])
            path = next((c for c in (PACKAGE_DIR / rel.with_suffix(".py"), PACKAGE_DIR / rel / "__init__.py")
                         if c.is_file()), None)
            if path is None:
                continue
            seen[module] = path
            todo += _ast_imports(path.read_text(encoding="utf-8"))
        return set(seen.values())

    for roots in (("kpi.marts", "kpi.snapshots", "kpi.freshness"), ("kpi.ingest.state",)):
        assert set(module_closure(*roots)) == closure(*roots)
