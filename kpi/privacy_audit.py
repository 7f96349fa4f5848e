"""The privacy auditor: can anyone compute a statistic about fewer than k people from what is
published, by adding or subtracting published figures of the same quarter?

It reads only what is published (the KPI marts; the snapshots repeat them) and the catalogue's
declarations (kpi/catalog.py), and is written independently of the suppression that it checks
(kpi/privacy.py): a different computation reaching the same verdict is the test of both.

For every mart with segments, every quarter, every breakdown (``segment_type``, per construct
in culture) and every *family* of figures -- the figures that describe the same people: the
row's group (population ``group_size``) or a subset of it declared as the figure's
``population`` (e.g. ``skill_score`` over ``assessed_employees``) -- it treats each figure as
additive over its people (a count or sum as it is, a mean or rate times its contributor count)
and looks for:

- **direct** disclosure: a published figure whose people number 1..k-1;
- **differencing**: the company figure minus the published figures of one breakdown's groups
  describes the groups left out; their people must number 0 or at least k (for the breakdowns
  that add up to the company: departments, target groups; for tools, which overlap, the groups
  left out are counted by their sizes, and only while one of them is shown);
- **across tables**: a figure about a department's people published in another table
  (``population: marts.kpi_usage.department`` in the catalogue, e.g. ``kpi_business.fte``) must
  be published only where that department's own row is; an hourly cost of a withheld
  department must be the pooled company rate (``hourly_cost_pooled``).

``kpi audit-privacy --warehouse W`` runs it over a warehouse; the pipeline runs it on every
quarter it builds before anything is committed, and stops the quarter when it finds anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from kpi.catalog import TableSpec, load

TOTAL = "company"
#: Breakdowns whose groups partition the company's people (the rest, tools, overlap).
ADDITIVE = ("department", "target_group")


@dataclass(frozen=True)
class Finding:
    quarter: str
    table: str
    figures: tuple[str, ...]
    where: str  # the cells
    people: int  # how many people the recoverable statistic describes
    how: str  # direct | differencing | across tables

    def describe(self, k: int) -> str:
        return (f"{self.quarter} {self.table}: {', '.join(self.figures)} of {self.where} describe {self.people} "
                f"{'person' if self.people == 1 else 'people'} (< k = {k}) by {self.how}")


def families(spec: TableSpec, present: set[str] | None = None) -> dict[str, list[str]]:
    """population column -> the figures over those people (the size column for the rest); only
    columns the table has (``present``: a warehouse of an earlier release may lack some)."""
    out: dict[str, list[str]] = {}
    for column in spec.columns:
        population = column.population or spec.size_column
        if column.role != "figure" or population.startswith("marts."):
            continue
        if present is None or (column.name in present and population in present):
            out.setdefault(population, []).append(column.name)
    return out


def _present(con, spec: TableSpec) -> set[str]:
    """The table's columns (from the relation's binding: information_schema.columns costs ~2 ms a
    query, which a quarter's audit paid twice per mart)."""
    return set(con.sql(f"SELECT * FROM {spec.name} LIMIT 0").columns)


def _segment_rows(con, spec: TableSpec, quarter: str, fams: dict[str, list[str]]) -> list[dict]:
    columns = list(dict.fromkeys([*spec.grain, spec.size_column, "suppressed",
                                  *[c for fam in fams.items() for c in (fam[0], *fam[1])]]))
    query = f"SELECT {', '.join(chr(34) + c + chr(34) for c in columns)} FROM {spec.name} WHERE quarter = ?"
    return [dict(zip(columns, row)) for row in con.sql(query, params=[quarter]).fetchall()]


def _audit_segments(con, spec: TableSpec, quarter: str, k: int, present: set[str]) -> list[Finding]:
    findings: list[Finding] = []
    groups: dict[tuple, list[dict]] = {}
    fams = families(spec, present)
    for row in _segment_rows(con, spec, quarter, fams):
        base = tuple(row[c] for c in spec.suppression_partition if c != "segment_type")
        groups.setdefault(base, []).append(row)
    for base, rows in sorted(groups.items(), key=lambda item: str(item[0])):
        label = f"{'/'.join(map(str, base))} " if base else ""
        total = next((r for r in rows if r["segment_type"] == TOTAL), None)
        for population, figures in fams.items():
            def shows(row, figures=figures) -> bool:
                return any(row[f] is not None for f in figures)

            for row in rows:  # direct
                people = row[population]
                if shows(row) and people is not None and 0 < people < k:
                    findings.append(Finding(quarter, spec.short_name, tuple(figures),
                                            f"{label}{row['segment_type']} {row['segment']}", int(people), "direct"))
            for segment_type in sorted({r["segment_type"] for r in rows} - {TOTAL}):
                members = [r for r in rows if r["segment_type"] == segment_type]
                hidden = [r for r in members if not shows(r)]
                if segment_type in ADDITIVE:
                    if total is None or not shows(total) or total[population] is None:
                        continue
                    people = total[population] - sum(r[population] or 0 for r in members if shows(r))
                elif len(hidden) < len(members):
                    people = sum(r[spec.size_column] or 0 for r in hidden)
                else:  # nothing of an overlapping breakdown shown: no difference to take
                    continue
                if 0 < people < k:
                    left_out = ", ".join(sorted(str(r["segment"]) for r in hidden)) or "none"
                    where = f"{label}the {segment_type} groups left out ({left_out})"
                    findings.append(Finding(quarter, spec.short_name, tuple(figures), where, int(people),
                                            "differencing"))
    return findings


def _audit_linked(con, spec: TableSpec, quarter: str, k: int, present: set[str]) -> list[Finding]:
    """Figures about a department's people in a table without segments of its own: shown only
    where the department's own row is, and a pay rate only when pooled or over k people."""
    findings: list[Finding] = []
    linked: dict[str, list[str]] = {}
    for column in spec.columns:
        if column.role == "figure" and (column.population or "").startswith("marts.") and column.name in present:
            linked.setdefault(column.population, []).append(column.name)
    for reference, figures in linked.items():
        table, segment_type = reference.rsplit(".", 1)
        rate = "hourly_cost_pooled" in present
        extra = ', t.hourly_cost_pooled, t.hourly_cost_eur, t.time_savings_eur' if rate else ", NULL, NULL, NULL"
        values = "".join(f', t."{f}"' for f in figures)
        rows = con.sql(
            f'SELECT t."{segment_type}", u.group_size, coalesce(u.suppressed, true){extra}{values} '
            f"FROM {spec.name} t LEFT JOIN {table} u ON u.quarter = t.quarter AND u.segment_type = ? "
            f"AND u.segment = t.\"{segment_type}\" WHERE t.quarter = ? AND t.\"{segment_type}\" <> 'all'",
            params=[segment_type, quarter]).fetchall()
        where = "{} {} (withheld in " + table.split(".")[1] + ")"
        for segment, size, withheld, pooled, hourly, savings, *shown in rows:
            if not withheld:
                continue
            shown_figures = tuple(f for f, v in zip(figures, shown) if v is not None)
            if shown_figures:
                findings.append(Finding(quarter, spec.short_name, shown_figures, where.format(segment_type, segment),
                                        int(size or 0), "across tables"))
            if rate and not pooled and (size or 0) < k and (hourly is not None or savings is not None):
                findings.append(Finding(quarter, spec.short_name, ("hourly_cost_eur", "time_savings_eur"),
                                        where.format(segment_type, segment), int(size or 0), "direct"))
    return findings


def audit(con, k: int, quarters: list[str] | None = None) -> list[Finding]:
    """Every recoverable statistic about fewer than k people in the published marts."""
    findings: list[Finding] = []
    existing = {f"{schema}.{name}" for schema, name in con.sql(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()}
    for spec in load().kpi_marts:
        if spec.name not in existing:
            continue
        wanted = quarters if quarters is not None else [
            q for (q,) in con.sql(f"SELECT DISTINCT quarter FROM {spec.name} ORDER BY 1").fetchall()]
        present = _present(con, spec)
        for quarter in wanted:
            if spec.suppression_partition is not None:
                findings += _audit_segments(con, spec, quarter, k, present)
            findings += _audit_linked(con, spec, quarter, k, present)
    return findings


def warehouse_k(con) -> int | None:
    """The k the warehouse's figures were built with (stored with the ROI assumptions)."""
    from kpi.warehouse import table_exists

    if not table_exists(con, "marts.roi_assumptions"):
        return None
    rows = con.sql("SELECT value FROM marts.roi_assumptions WHERE name = 'privacy.min_group_size'").fetchall()
    return int(rows[0][0]) if rows and rows[0][0] is not None else None
