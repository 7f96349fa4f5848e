"""Hashes of the project's own code, for deciding what to redo: the source files of a set of
``kpi`` modules and every ``kpi`` module they import, found by reading their imports (so no list
of modules is kept by hand, and nothing is imported)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from kpi.paths import PACKAGE_DIR


def module_closure(*roots: str) -> list[Path]:
    """The source files of these ``kpi`` modules and of every ``kpi`` module they import,
    directly or not (read from the source with :mod:`ast`, nothing is imported)."""
    import ast

    def source(module: str) -> Path | None:
        parts = module.split(".")
        if parts[0] != "kpi" or len(parts) == 1:
            return None
        relative = Path(*parts[1:])
        for candidate in (PACKAGE_DIR / relative.with_suffix(".py"), PACKAGE_DIR / relative / "__init__.py"):
            if candidate.is_file():
                return candidate
        return None

    seen: dict[str, Path] = {}
    todo = list(roots)
    while todo:
        module = todo.pop()
        path = source(module)
        if module in seen or path is None:
            continue
        seen[module] = path
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                todo.append(node.module)
                todo += [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                todo += [alias.name for alias in node.names]
    return sorted(set(seen.values()))


def files_sha256(paths, base: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.relative_to(base).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
