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

EMPLOYEES = """
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
)
"""

FIGURES = """
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

QUERY = EMPLOYEES + """,
counts AS (
    SELECT CAST(event_time AS DATE) AS day, lower(trim("user")) AS identity,
           CAST(interactions AS BIGINT) AS interactions
    FROM read_csv($counts, header = true, all_varchar = true, union_by_name = true)
),
usage AS (
    SELECT * FROM counts
    {events}
),
""" + FIGURES


# ----------------------------------------------------------------------------------------------
# the fairer floor (issue 18): every usage file the pipeline reads, every vendor format

QUERY_ALL = EMPLOYEES + """,
m365 AS (
    SELECT DISTINCT identity, app, day FROM (
        SELECT CAST(nullif(trim(v.value), '') AS DATE) AS day, lower(trim(v."User Principal Name")) AS identity,
               v.app, CAST(v."Report Refresh Date" AS DATE) AS refresh, CAST(v."Report Period" AS INTEGER) AS period
        FROM (UNPIVOT (SELECT * FROM read_csv($m365, columns = $m365_columns, header = true, auto_detect = false,
                                              delim = ',', quote = '"'))
              ON COLUMNS('Last Activity Date$') INTO NAME app VALUE value) AS v
    )
    WHERE day BETWEEN refresh - period + 1 AND refresh
),
usage AS (
    -- canonical counts (pre-aggregated, a day per row)
    SELECT CAST(event_time AS DATE) AS day, lower(trim("user")) AS identity,
           CAST(interactions AS BIGINT) AS interactions
    FROM read_csv($counts, columns = $counts_columns, header = true, auto_detect = false, delim = ',', quote = '"')
    -- (known headers: passed as columns, no sniffing)
    UNION ALL  -- canonical events: one interaction per line, the day in the company's time zone
    SELECT CAST(timezone($tz, CAST(event_time AS TIMESTAMPTZ)) AS DATE), lower(trim("user")), 1
    FROM read_json($events, format = 'newline_delimited', columns = {event_time: 'VARCHAR', "user": 'VARCHAR'})
    UNION ALL  -- Microsoft 365 Copilot: one interaction per app and day inside the report period; the
    -- overall last-activity date only on a day no app column has
    SELECT day, identity, 1 FROM m365 AS a
    WHERE app <> 'Last Activity Date' OR NOT EXISTS (
        SELECT 1 FROM m365 AS b WHERE b.identity = a.identity AND b.day = a.day AND b.app <> 'Last Activity Date')
    UNION ALL  -- GitHub Copilot users-1-day: engaged = user-initiated interactions + acceptances
    SELECT CAST(day AS DATE), lower(trim(user_login)),
           coalesce(user_initiated_interaction_count, 0) + coalesce(code_acceptance_activity_count, 0)
    FROM read_json($github, format = 'newline_delimited',
                   columns = {day: 'VARCHAR', user_login: 'VARCHAR', user_initiated_interaction_count: 'BIGINT',
                              code_acceptance_activity_count: 'BIGINT'})
    UNION ALL  -- ChatGPT Enterprise: the first and the last active day, the messages split between them
    SELECT unnest([first_day, last_day]), identity, unnest([messages // 2, messages - messages // 2])
    FROM (SELECT CAST(nullif(trim(first_day_active_in_period), '') AS DATE) AS first_day,
                 CAST(nullif(trim(last_day_active_in_period), '') AS DATE) AS last_day,
                 lower(trim(email)) AS identity, CAST(nullif(trim(messages), '') AS BIGINT) AS messages
          FROM read_csv($chatgpt, columns = $chatgpt_columns, header = true, auto_detect = false, delim = ',',
                        quote = '"'))
    WHERE first_day IS NOT NULL AND messages > 0
),
""" + FIGURES


def _header(path: str) -> dict[str, str]:
    """A CSV's columns, all read as text (the generator writes one header per format)."""
    with open(path, encoding="utf-8-sig") as fh:
        return {name.strip(): "VARCHAR" for name in fh.readline().rstrip("\r\n").split(",")}


def vendor_files(inputs: Path) -> dict[str, list[str]]:
    """The vendor exports of the generator's layout: usage/m365/*.csv, usage/github/*.ndjson,
    usage/chatgpt/*.csv."""
    usage = inputs / "usage"
    return {"m365": sorted(str(p) for p in (usage / "m365").glob("*.csv")),
            "github": sorted(str(p) for p in (usage / "github").glob("*.ndjson")),
            "chatgpt": sorted(str(p) for p in (usage / "chatgpt").glob("*.csv"))}


def floor_all(inputs: Path, tz: str = "Europe/Berlin") -> list[dict]:
    """The floor over every usage file the pipeline reads (canonical and every vendor format) with
    DuckDB alone: the same figures, without validation, quarantine, pseudonyms or de-duplication
    beyond the vendor formats' own mapping (ChatGPT's weekly-over-monthly rule is not applied)."""
    import duckdb

    counts, events = canonical_files(inputs)
    vendors = vendor_files(inputs)
    if not counts or not events or not all(vendors.values()):
        raise SystemExit(f"{inputs}: the generator's usage layout (gateway, m365, github, chatgpt) is incomplete")
    con = duckdb.connect()
    params = {"employees": str(inputs / "hr" / "employees.csv"), "counts": counts, "events": events, "tz": tz,
              **vendors, "counts_columns": _header(counts[0]), "m365_columns": _header(vendors["m365"][0]),
              "chatgpt_columns": _header(vendors["chatgpt"][0])}
    rows = con.execute(QUERY_ALL, params).fetchall()
    con.close()
    return [{"quarter": q, "department": d, "active_users": int(a), "interactions": int(n)} for q, d, a, n in rows]


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
    parser.add_argument("--all-formats", action="store_true",
                        help="read every usage file the pipeline reads (every vendor format), not only the canonical")
    args = parser.parse_args()
    rows = (floor_all if args.all_formats else floor)(args.inputs, args.tz)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    else:
        for r in rows:
            sys.stdout.write(f"{r['quarter']}\t{r['department']}\t{r['active_users']}\t{r['interactions']}\n")


if __name__ == "__main__":
    main()
