"""The demo report, byte for byte, against golden files in tests/fixtures/report/.

The demo warehouse (the session fixture `demo_warehouse`) is rendered for the latest closed
quarter (2026-Q3, with the demo config, as `kpi run` does) and for 2025-Q4 (without a config, as
`kpi report` does). Before comparing, three things that change from run to run, and nothing else,
are replaced by a marker:

- the "generated YYYY-MM-DD HH:MM" timestamp in the header;
- the date a quarter was frozen as a snapshot ("snapshot version 1 on YYYY-MM-DD": the day the
  warehouse was built);
- the Vega / Vega-Lite / vega-embed bundle inlined from vl-convert (about 900 kB of third-party
  JavaScript that changes with the vl-convert version, not with our code).

Everything else (markup, CSS, our JavaScript, the chart specs with their data) must be equal.
Absolute paths never appear in the page (checked): the header names the warehouse file only.

To regenerate the golden files after an intended change of the report, run

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/e2e/test_report_golden.py

then review `git diff tests/fixtures/report/` and commit the files with the change.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

import pytest

from kpi.config import load_config
from kpi.paths import DEMO_DIR
from kpi.report import build_report

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "report"
BUNDLE_MARKER = "/* vl-convert javascript bundle (Vega, Vega-Lite, vega-embed) */"


def normalise(page: str, *paths: Path) -> str:
    """The page with the timestamp, the snapshot date and the inlined library bundle replaced."""
    for path in paths:
        assert str(path) not in page, f"the page holds the absolute path {path}"
    assert page.count("window.vegaEmbed=") == 1
    at = page.index("window.vegaEmbed=")
    start = page.rindex("<script>", 0, at) + len("<script>")
    end = page.index("</script>", at)
    page = page[:start] + BUNDLE_MARKER + page[end:]
    page, n = re.subn(r"generated \d{4}-\d{2}-\d{2} \d{2}:\d{2} ", "generated <GENERATED> ", page)
    assert n == 1, "the header should say once when the report was generated"
    page, n = re.subn(r"(snapshot version \d+ on )\d{4}-\d{2}-\d{2}", r"\1<SNAPSHOT DATE>", page)
    assert n == 1, "both quarters are closed: the status names the snapshot's date once"
    return page


def first_difference(expected: str, actual: str, width: int = 160) -> str:
    """A short unified diff, long lines (chart JSON) cut around the first differing character."""
    a, b = expected.splitlines(), actual.splitlines()
    out = []
    for line in difflib.unified_diff(a, b, "golden", "rendered", n=1, lineterm=""):
        if len(line) > width:
            line = line[:width] + " …"
        out.append(line)
        if len(out) > 40:
            out.append("…")
            break
    i = next((i for i, (x, y) in enumerate(zip(expected, actual)) if x != y), min(len(expected), len(actual)))
    out.append(f"first difference at character {i}: golden {expected[max(0, i - 60):i + 60]!r}")
    out.append(f"                               rendered {actual[max(0, i - 60):i + 60]!r}")
    return "\n".join(out)


@pytest.mark.parametrize("quarter, with_config", [("2026-Q3", True), ("2025-Q4", False)])
def test_demo_report_matches_the_golden_file(demo_warehouse, tmp_path, quarter, with_config):
    cfg = load_config(DEMO_DIR / "config.yaml") if with_config else None
    path = build_report(demo_warehouse, quarter, tmp_path, cfg=cfg, images=False)
    assert path == tmp_path / f"report-{quarter}.html"
    page = normalise(path.read_bytes().decode("utf-8"), tmp_path, demo_warehouse.parent)
    golden = GOLDEN / f"report-{quarter}.html"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(page, encoding="utf-8", newline="")
    expected = golden.read_bytes().decode("utf-8")
    assert len(expected.encode()) < 400_000, "keep the golden files small"
    if page != expected:
        pytest.fail(f"report-{quarter}.html differs from {golden.relative_to(GOLDEN.parents[2])} "
                    f"(UPDATE_GOLDEN=1 regenerates it after an intended change):\n"
                    + first_difference(expected, page), pytrace=False)
