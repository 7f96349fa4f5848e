"""`kpi report --pdf` (issue 16): the same page printed by headless Chromium, A4, each section from a
new page, read back with pypdf. Uses the session fixture `demo_warehouse` read-only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kpi.report.pdf import INSTALL_HINT, chromium

KPI = str(Path(sys.executable).parent / "kpi")


@pytest.mark.skipif(chromium() is None, reason="Chromium is not installed: scripts/test-prereqs.sh installs it")
def test_the_pdf_has_a_page_per_section_and_the_report_on_its_first(demo_warehouse, tmp_path):
    from pypdf import PdfReader

    result = subprocess.run([KPI, "report", "--warehouse", str(demo_warehouse), "--quarter", "2026-Q3", "--out",
                             str(tmp_path), "--pdf"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    pdf = tmp_path / "report-2026-Q3.pdf"
    assert f"PDF: {pdf}" in result.stdout
    reader = PdfReader(pdf)
    html = (tmp_path / "report-2026-Q3.html").read_text(encoding="utf-8")
    sections = html.count("<section id=")
    assert sections == 10
    assert sections <= len(reader.pages) <= 4 * sections  # every section starts a page
    first = reader.pages[0].extract_text()
    assert "AI-training programme: 2026-Q3" in first and "1 Where we stand" in first
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (210, 297)  # A4, mm
    texts = [page.extract_text().lstrip() for page in reader.pages]
    assert any(text.startswith("7 Return on investment") for text in texts), "the ROI section starts a page"


def test_without_chromium_one_line_says_how_to_install_it(demo_warehouse, tmp_path):
    env = {**os.environ, "KPI_CHROMIUM": str(tmp_path / "no-such-browser")}
    result = subprocess.run([KPI, "report", "--warehouse", str(demo_warehouse), "--quarter", "2026-Q3", "--out",
                             str(tmp_path / "out"), "--pdf"], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {INSTALL_HINT}"
    assert not (tmp_path / "out").exists()  # nothing written
