"""Find the input files of a company's inputs folder (docs/inputs.md, "Layout")."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from kpi.errors import InputError

# State inputs: complete current states, read whole on every run, replacing what came before.
STATE_FILES: dict[str, tuple[str, bool]] = {
    "hr/employees.csv": ("employees", True),
    "hr/trainings.csv": ("trainings", True),
    "hr/assessments.csv": ("assessments", False),
    "hr/course_feedback.csv": ("course_feedback", False),
    "finance/costs.csv": ("costs", True),
    "finance/licenses.csv": ("licenses", False),
    "business/process_metrics.csv": ("process_metrics", False),
    "business/use_cases.csv": ("use_cases", False),
}
REQUIRED_FIX = {
    "employees": "export the current HR list (employee_id, department, target_group, hire_date, ...)",
    "trainings": "export the training enrolments (employee_id, course_id, format, started_on, status, hours)",
    "costs": "export the programme's cost ledger (booked_on, category, amount_eur)",
}


@dataclass(frozen=True)
class InputFile:
    path: Path
    rel: str  # path relative to the inputs folder, with forward slashes
    kind: str  # employees | trainings | ... | usage | survey

    @property
    def sha256(self) -> str:
        """The content hash; read once per (path, size, modification time) - see `recall_hashes`."""
        key = _stat_key(self)
        if key not in _HASHES:
            _HASHES[key] = file_sha256(self.path)
        return _HASHES[key]


@dataclass
class InputFiles:
    root: Path
    state: dict[str, InputFile] = field(default_factory=dict)  # kind -> file
    usage: list[InputFile] = field(default_factory=list)
    surveys: list[InputFile] = field(default_factory=list)

    def all(self) -> list[InputFile]:
        return [*self.state.values(), *self.usage, *self.surveys]


# (absolute path, size, mtime in ns) -> sha256: the hashes known to this process, as git's index
# knows them: a file with the same path, size and modification time is not read again.
_HASHES: dict[tuple[str, int, int], str] = {}


def _stat_key(file: InputFile) -> tuple[str, int, int]:
    stat = file.path.stat()
    return str(file.path.resolve()), stat.st_size, stat.st_mtime_ns


def recall_hashes(con, files: list[InputFile]) -> None:
    """Make the hashes stored by earlier runs (audit.file_hashes, by path relative to the inputs
    folder) known to this process; hashing every usage file again took 1.2 s per run at 10,000
    employees x 24 months."""
    from kpi.warehouse import table_exists

    if not table_exists(con, "audit.file_hashes"):
        return
    stored = {(file, size, mtime_ns): sha for file, size, mtime_ns, sha in
              con.sql("SELECT file, size, mtime_ns, sha256 FROM audit.file_hashes").fetchall()}
    for file in files:
        path, size, mtime_ns = _stat_key(file)
        sha = stored.get((file.rel, size, mtime_ns))
        if sha is not None:
            _HASHES.setdefault((path, size, mtime_ns), sha)


def remember_hashes(con, files: list[InputFile]) -> None:
    """Store the hashes of these files that this process knows (computed or recalled)."""
    rows = []
    for file in files:
        key = _stat_key(file)
        if key in _HASHES:
            rows.append((file.rel, key[1], key[2], _HASHES[key]))
    from kpi.migrations import ensure_tables

    ensure_tables(con, "audit.file_hashes")
    if rows:
        con.execute("INSERT OR REPLACE INTO audit.file_hashes SELECT unnest(?::VARCHAR[]), unnest(?::BIGINT[]), "
                    "unnest(?::BIGINT[]), unnest(?::VARCHAR[])", [list(column) for column in zip(*rows)])


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _hidden(name: str) -> bool:
    return name.startswith((".", "~$"))


def _inside(path: Path, root: Path) -> None:
    """Refuse a path (a link, or below a link) whose target leaves the inputs folder. The message
    names the path inside the folder and nothing of the target (neither its path nor its content)."""
    try:
        target = path.resolve()
    except (OSError, RuntimeError):  # a link loop
        raise InputError(
            f"{path.relative_to(root).as_posix()}: is a link that leads back to itself; remove it"
        ) from None
    real_root = root.resolve()
    if not target.is_relative_to(real_root):
        parts = path.relative_to(root).parts
        for i in range(1, len(parts) + 1):  # name the link itself (a folder on the way, or the file)
            step = root.joinpath(*parts[:i])
            if step.is_symlink():
                path = step
                break
        rel = path.relative_to(root).as_posix()
        kind = "folder" if path.is_dir() else "file"
        raise InputError(f"{rel}: is a link that points outside the inputs folder; copy the {kind} into the "
                         "inputs folder instead of linking to it (inputs are only read inside the folder)")


def _visible_files(folder: Path, root: Path | None = None) -> list[Path]:
    """The files below ``folder`` in name order, hidden files and READMEs left out. A link (to a
    file or a folder) is followed only while its target stays inside the inputs folder ``root``;
    one that leaves it stops the run (``_inside``)."""
    root = root or folder
    if folder.is_symlink() or folder.exists():
        _inside(folder, root)
    if not folder.is_dir():
        return []
    found: list[Path] = []

    def walk(directory: Path, ancestors: frozenset[Path]) -> None:
        real = directory.resolve()
        if real in ancestors:  # a link to a folder it is in: walked already
            return
        for path in directory.iterdir():
            if _hidden(path.name):
                continue
            if path.is_symlink():
                _inside(path, root)
            if path.is_dir():
                walk(path, ancestors | {real})
            elif path.is_file() and not path.name.lower().startswith("readme"):
                found.append(path)

    walk(folder, frozenset())
    return sorted(found)


def discover_inputs(inputs_dir: Path | str) -> InputFiles:
    """The input files by kind. A missing required file stops the run with one line; so does a
    link whose target leaves the inputs folder."""
    root = Path(inputs_dir)
    if not root.is_dir():
        raise InputError(
            f"{root}: inputs folder not found; pass the folder holding hr/, usage/, finance/ ... with --inputs"
        )
    found = InputFiles(root=root)
    for rel, (kind, required) in STATE_FILES.items():
        path = root / rel
        if path.is_symlink() or path.exists():
            _inside(path, root)
        if path.is_file():
            found.state[kind] = InputFile(path, rel, kind)
        elif required:
            raise InputError(f"{rel}: required file is missing in {root}; {REQUIRED_FIX[kind]} and save it as {rel}")
    found.usage = [InputFile(p, p.relative_to(root).as_posix(), "usage") for p in _visible_files(root / "usage", root)]
    found.surveys = [
        InputFile(p, p.relative_to(root).as_posix(), "survey")
        for p in _visible_files(root / "surveys", root)
        if p.suffix.lower() == ".csv"
    ]
    return found
