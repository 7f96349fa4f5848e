"""When an input or the machine goes wrong, `kpi` ends with one line and exit status 2, never a
traceback (docs/architecture.md, "Failures and locks"). Every hostile file is generated here, at
test time, into a copy of the tiny inputs."""

from __future__ import annotations

import gzip
import os

import pytest

from tests.e2e.test_cli import kpi
from tests.ingest.tiny import EMPLOYEES, SURVEY, USAGE, write_tiny_inputs

KEY = {"KPI_PSEUDONYM_KEY": "x" * 32}


def _gzipped(text: str) -> bytes:
    return gzip.compress(text.encode(), mtime=0)


#: name -> (relative path, content: bytes, or a str = target of a symlink)
HOSTILE: dict[str, tuple[str, bytes | str]] = {
    "empty": ("usage/empty.csv", b""),
    "whitespace only": ("usage/blank.csv", b"  \n\t\n   \n"),
    "gzip-compressed csv": ("usage/export.csv", _gzipped(USAGE)),
    "gzip-compressed json lines": ("usage/export.ndjson", _gzipped('{"user": "E001"}\n')),
    "binary": ("usage/tool.csv", bytes(range(256)) * 8),
    "NUL bytes": ("usage/nul.csv", USAGE.replace("chat-gateway", "chat\x00gateway").encode()),
    "UTF-16 without BOM": ("usage/utf16.csv", USAGE.encode("utf-16-le")),
    "UTF-32": ("usage/utf32.csv", USAGE.encode("utf-32")),
    "JSON lines that are not JSON": ("usage/events.ndjson", b"this is not json\nneither is this\n"),
    "duplicated column": ("hr/employees.csv", "".join(  # the e-mail column twice, in the header and every row
        ",".join(fields[:2] + fields[1:]) + "\n" for fields in (line.split(",") for line in EMPLOYEES.splitlines())
    ).encode()),
    "survey headers match no item": (
        "surveys/pulse-2025-Q2.csv",
        b"response_id,submitted_at,department,target_group,How are you,Anything else\n"
        b"r1,2025-05-20T10:00:00,Sales,user,Agree,no\n"),
    "symlink to a system file": ("usage/passwd.csv", "/etc/passwd"),
}


def _place(root, rel: str, content: bytes | str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.symlink_to(content)
    else:
        path.write_bytes(content)


def assert_one_line(result, *fragments: str) -> str:
    """Exit 2, exactly one `error:` line, no traceback anywhere; returns the line."""
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output and "Stack Trace" not in output, output
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_input_ends_in_one_line(case, tmp_path):
    inputs = write_tiny_inputs(tmp_path / "inputs")
    rel, content = HOSTILE[case]
    _place(inputs, rel, content)
    warehouse = tmp_path / "out" / "w.duckdb"
    result = kpi("run", "--inputs", inputs, "--config", inputs / "config.yaml", "--warehouse", warehouse,
                 "--no-report", env=KEY)
    line = assert_one_line(result)
    assert "root:" not in result.stdout + result.stderr  # nothing of /etc/passwd is shown
    if case == "symlink to a system file":  # refused before the run starts (kpi/ingest/files.py)
        return
    assert rel in line, line
    # the full trace is kept beside the warehouse, and the user is told where
    log = tmp_path / "out" / "kpi-errors.log"
    assert log.is_file(), result.stderr
    text = log.read_text()
    assert line in text and "Traceback" in text and rel in text
    assert f"(the full error is in {log})" in result.stderr.splitlines()


def test_survey_and_gateway_alone_are_fine(tmp_path):
    """The hostile cases above are hostile because of the file added, not the copy of the inputs."""
    inputs = write_tiny_inputs(tmp_path / "inputs")
    assert SURVEY and (inputs / "surveys" / "pulse-2025-Q1.csv").is_file()
    result = kpi("run", "--inputs", inputs, "--config", inputs / "config.yaml", "--warehouse",
                 tmp_path / "w.duckdb", "--no-report", env=KEY)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "kpi-errors.log").exists()

