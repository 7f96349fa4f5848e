"""Hashes of the project's own code, for deciding what to redo: the source files of a set of
``kpi`` modules and every ``kpi`` module they import, found by reading their imports (so no list
of modules is kept by hand, and nothing is imported)."""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path

from kpi.paths import PACKAGE_DIR

# An import statement anywhere in a file (module level or inside a function): `import a.b, c as d`
# or `from a.b import (x, y as z)`, over continuation lines. Text that only looks like one (in a
# docstring) adds a module to the closure: over-inclusion only costs a rebuild.
_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+([\w.]+)[ \t]+import[ \t]+(\([^)]*\)|(?:[^\n#\\]|\\\n)*)"
    r"|import[ \t]+((?:[^\n#;\\]|\\\n)*))", re.MULTILINE)


def _names(text: str) -> list[str]:
    """The names of an import list (`a.b as c, d` or `(x,  # note\n y)`): `a.b`, `d`, `x`, `y`."""
    text = re.sub(r"#[^\n]*", "", text).replace("\\\n", " ").replace("\n", " ").strip("() \t")
    return [words[0] for words in (part.split() for part in text.split(",")) if words and words[0] != "*"]


@functools.cache
def imported_modules(path: Path, mtime_ns: int) -> tuple[str, ...]:
    """The modules a source file imports, and for `from m import n` also `m.n` (which may be a
    submodule): a regular-expression scan, about 20x faster than parsing the file with :mod:`ast`
    (issue 18: the code hashes are taken on every run); tested to find at least what :mod:`ast`
    finds in every module of the package. Cached per process by path and modification time."""
    found: list[str] = []
    for match in _IMPORT.finditer(path.read_text(encoding="utf-8")):
        module, names, plain = match.groups()
        if plain is not None:
            found += _names(plain)
        elif not module.startswith("."):
            found.append(module)
            found += [f"{module}.{name}" for name in _names(names)]
    return tuple(found)


def module_closure(*roots: str) -> list[Path]:
    """The source files of these ``kpi`` modules and of every ``kpi`` module they import,
    directly or not (read from the source, nothing is imported)."""

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
        todo += imported_modules(path, path.stat().st_mtime_ns)
    return sorted(set(seen.values()))


def files_sha256(paths, base: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.relative_to(base).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
