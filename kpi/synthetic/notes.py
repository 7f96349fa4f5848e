"""Two short qualitative notes of the demo company (focus group, interviews) for the yearly deep dive.

Fixed text, no random numbers: written by :func:`kpi.synthetic.generate_company` into
``notes/`` of the inputs folder, so every other file stays what it was and the demo stays
byte-stable for a seed. The report reads them with ``kpi report --year ... --notes DIR`` (and
Dagster's yearly report from ``<inputs>/notes/``); the pipeline itself never reads them.
"""

from __future__ import annotations

from pathlib import Path

NOTES = {
    "notes/2025-06-focus-group-production.md": """\
# Focus group: Production, June 2025

Eight shift leads and maintenance planners, 90 minutes, moderated by HR.

- The assistant is used most for **maintenance reports**: a first draft from the technician's
  keywords, checked and corrected before it is filed.
- Several participants were unsure which data they may paste into the tool; a one-page rule
  sheet was asked for.
- Night shifts have no champion to ask; the group suggested a second champion in Production.

> "The draft is never right, but it is never empty either." (shift lead)
""",
    "notes/2025-11-interviews-sales.md": """\
# Interviews: Sales & Marketing, November 2025

Six one-to-one interviews (30 minutes each) with account managers and the tender team.

1. Tender documents: the first draft of the technical annex is now written in about half the
   time; the review by the engineers takes as long as before.
2. Quote preparation is where the time goes back to the customer: faster answers to requests.
3. Concern: prompts that work well are kept in private notes, not shared. The team asked for a
   shared prompt library (see the use-case register).

Summary for the yearly review: adoption is settled; the next step is sharing what works.
""",
}


def write_notes(out: Path) -> dict[str, int]:
    """Write the notes into ``out`` (UTF-8, LF); returns their paths (one entry each, as for the config)."""
    for rel, text in NOTES.items():
        path = Path(out) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    return {rel: 1 for rel in NOTES}
