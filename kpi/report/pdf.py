"""The report as PDF for the board pack (``kpi report --pdf``): the same page, printed by headless
Chromium (A4, a page break before each major section, charts as vector SVG).

Chromium is found on the PATH (``chromium``, ``chromium-browser``, ``google-chrome``) or at
``KPI_CHROMIUM``; without it the command stops with one line saying how to install it. The page
loads nothing from the network (every request goes to a closed port), and Chromium's virtual
time lets vega-embed draw every chart before the page is printed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from kpi.errors import UserError

__all__ = ["chromium", "write_pdf"]

INSTALL_HINT = ("--pdf needs headless Chromium, which is not installed: install it (Debian/Ubuntu: "
                "sudo apt-get install chromium; macOS: brew install --cask chromium) or set KPI_CHROMIUM to its path")


def chromium() -> str | None:
    """The Chromium executable, or None."""
    given = os.environ.get("KPI_CHROMIUM")
    if given:
        return given if Path(given).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def write_pdf(html: Path, pdf: Path, timeout: int = 180) -> Path:
    """Print ``html`` to ``pdf`` (written whole or not at all)."""
    from kpi.fileio import atomic_write_bytes

    browser = chromium()
    if browser is None:
        raise UserError(INSTALL_HINT)
    with tempfile.TemporaryDirectory(prefix="kpi-pdf-") as tmp:
        out = Path(tmp) / "report.pdf"
        result = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-default-apps", f"--user-data-dir={Path(tmp) / 'profile'}", "--proxy-server=127.0.0.1:9",
             "--proxy-bypass-list=<-loopback>", "--virtual-time-budget=15000", "--no-pdf-header-footer",
             f"--print-to-pdf={out}", Path(html).resolve().as_uri()],
            capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0 or not out.exists() or out.stat().st_size == 0:
            last = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise UserError(f"{pdf}: Chromium could not print the report ({last})")
        atomic_write_bytes(pdf, out.read_bytes())
    return pdf
