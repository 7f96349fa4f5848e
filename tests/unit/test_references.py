"""Every reference in the code and the docs points at something in the repository: no comment
names a spec file that is not here (the first release's contract lived outside it), and every
relative link of README.md and docs/*.md resolves."""

from __future__ import annotations

import re

from kpi.paths import REPO_ROOT

SOURCES = [p for pattern in ("kpi/**/*.py", "pipelines/**/*.py", "sql/**/*.sql", "sql/**/*.yml", "tests/**/*.py",
                             "bench/*.py", "docs/*.md", "README.md", "Makefile", "notebooks/*.ipynb")
           for p in REPO_ROOT.glob(pattern)]
DANGLING = re.compile(r"(?<![\w/])(METRICS|OUTPUTS|INPUTS|CONFIG)\.md|shared/contract")


def test_no_reference_to_a_spec_file_outside_the_repository():
    assert len(SOURCES) > 50
    hits = [f"{p.relative_to(REPO_ROOT)}:{n}: {line.strip()}" for p in SOURCES
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
            if DANGLING.search(line) and p.name != "test_references.py"]
    assert not hits, "\n".join(hits)


def test_relative_links_in_the_docs_resolve():
    broken = []
    for page in [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#:\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(REPO_ROOT)} -> {target}")
    assert not broken, broken
