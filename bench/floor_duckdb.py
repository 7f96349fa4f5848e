"""Benchmark floor: the least work that answers "active users and interactions per quarter and
department", in one DuckDB query over the raw files.

    .venv/bin/python bench/floor_duckdb.py INPUTS [--tz Europe/Berlin] [--json OUT]

Reads only the canonical usage files of the generator's layout and the HR list:

- ``usage/gateway/gateway-YYYY-MM.csv``: pre-aggregated (event_time = day, user, tool, action,
  interactions, successes, failures);
- ``usage/gateway/*.jsonl``: event level (event_time with offset, user, tool, action, outcome):
  one interaction per line, its day taken in the company time zone;
- ``hr/employees.csv``: employee_id, email, github_login, department, hire_date, exit_date.

A usage row counts when its user (trimmed, case-folded) is an employee's id, e-mail or GitHub
login and its day lies inside that employee's employment; an employee is active in a quarter when
one of their counted rows there has interactions > 0. No validation, no quarantine, no
pseudonyms, no natural-key de-duplication: the hardware's floor for the same figures.

Prints one line per quarter and department (or writes them as JSON with --json).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EVENTS = """UNION ALL
    SELECT CAST(timezone($tz, CAST(event_time AS TIMESTAMPTZ)) AS DATE) AS day, lower(trim("user")) AS identity,
           1::BIGINT AS interactions
    FROM read_json($events, format = 'newline_delimited', columns = {event_time: 'VARCHAR', "user": 'VARCHAR'})"""

QUERY = """
WITH employees AS (
    SELECT employee_id, email, github_login, department,
           CAST(hire_date AS DATE) AS hire_date, CAST(nullif(trim(exit_date), '') AS DATE) AS exit_date
    FROM read_csv($employees, all_varchar = true, header = true)
),
identities AS (             -- every identifier of an employee, in matching form
    SELECT lower(trim(employee_id)) AS identity, employee_id FROM employees
    UNION
    SELECT lower(trim(email)), employee_id FROM employees WHERE nullif(trim(email), '') IS NOT NULL
    UNION
    SELECT lower(trim(github_login)), employee_id FROM employees WHERE nullif(trim(github_login), '') IS NOT NULL
),
counts AS (
    SELECT CAST(event_time AS DATE) AS day, lower(trim("user")) AS identity,
           CAST(interactions AS BIGINT) AS interactions
    FROM read_csv($counts, header = true, all_varchar = true, union_by_name = true)
),
usage AS (
    SELECT * FROM counts
    {events}
),
matched AS (
    SELECT year(u.day) || '-Q' || quarter(u.day) AS quarter, e.department, e.employee_id, u.interactions
    FROM usage u
    JOIN identities i USING (identity)
    JOIN employees e ON e.employee_id = i.employee_id
    WHERE u.day >= e.hire_date AND (e.exit_date IS NULL OR u.day <= e.exit_date)
)
SELECT quarter, department,
       count(DISTINCT employee_id) FILTER (WHERE interactions > 0) AS active_users,
       sum(interactions)::BIGINT AS interactions
FROM matched
GROUP BY quarter, department
ORDER BY quarter, department
"""


def canonical_files(inputs: Path) -> tuple[list[str], list[str]]:
    gateway = inputs / "usage" / "gateway"
    counts = sorted(str(p) for p in gateway.glob("*.csv"))
    events = sorted(str(p) for p in gateway.glob("*.jsonl"))
    return counts, events


def floor(inputs: Path, tz: str = "Europe/Berlin") -> list[dict]:
    import duckdb

    counts, events = canonical_files(inputs)
    if not counts:
        raise SystemExit(f"{inputs}: no usage/gateway/*.csv")
    con = duckdb.connect()
    params = {"employees": str(inputs / "hr" / "employees.csv"), "counts": counts}
    if events:
        params.update(events=events, tz=tz)
    query = QUERY.replace("{events}", EVENTS if events else "")
    rows = con.execute(query, params).fetchall()
    con.close()
    return [{"quarter": q, "department": d, "active_users": int(a), "interactions": int(n)} for q, d, a, n in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", type=Path)
    parser.add_argument("--tz", default="Europe/Berlin", help="company time zone (config company.timezone)")
    parser.add_argument("--json", type=Path, help="write the rows as JSON to this file")
    args = parser.parse_args()
    rows = floor(args.inputs, args.tz)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    else:
        for r in rows:
            sys.stdout.write(f"{r['quarter']}\t{r['department']}\t{r['active_users']}\t{r['interactions']}\n")


if __name__ == "__main__":
    main()
