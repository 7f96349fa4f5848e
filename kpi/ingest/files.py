"""Find the input files of a company's inputs folder (INPUTS.md layout)."""

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
    "finance/costs.csv": ("costs", True),
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
        return file_sha256(self.path)


@dataclass
class InputFiles:
    root: Path
    state: dict[str, InputFile] = field(default_factory=dict)  # kind -> file
    usage: list[InputFile] = field(default_factory=list)
    surveys: list[InputFile] = field(default_factory=list)

    def all(self) -> list[InputFile]:
        return [*self.state.values(), *self.usage, *self.surveys]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _visible_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.rglob("*")):
        rel_parts = path.relative_to(folder).parts
        if any(part.startswith((".", "~$")) for part in rel_parts) or not path.is_file():
            continue
        if path.name.lower().startswith("readme"):
            continue
        found.append(path)
    return found


def discover_inputs(inputs_dir: Path | str) -> InputFiles:
    """The input files by kind. A missing required file stops the run with one line."""
    root = Path(inputs_dir)
    if not root.is_dir():
        raise InputError(f"{root}: inputs folder not found; pass the folder holding hr/, usage/, finance/ ... with --inputs")
    found = InputFiles(root=root)
    for rel, (kind, required) in STATE_FILES.items():
        path = root / rel
        if path.is_file():
            found.state[kind] = InputFile(path, rel, kind)
        elif required:
            raise InputError(f"{rel}: required file is missing in {root}; {REQUIRED_FIX[kind]} and save it as {rel}")
    found.usage = [InputFile(p, p.relative_to(root).as_posix(), "usage") for p in _visible_files(root / "usage")]
    found.surveys = [
        InputFile(p, p.relative_to(root).as_posix(), "survey")
        for p in _visible_files(root / "surveys")
        if p.suffix.lower() == ".csv"
    ]
    return found
