"""Benchmark: the same figures as bench/floor_duckdb.py, written the way a notebook user would in
plain pandas (read_csv per file, concat, merge with the HR list, groupby).

    .venv/bin/python bench/plain_pandas.py INPUTS [--tz Europe/Berlin] [--json OUT]

Same inputs and the same rules as the floor (see its docstring): the canonical usage files
``usage/gateway/*.csv`` (pre-aggregated) and ``usage/gateway/*.jsonl`` (events, one interaction
each, day in the company time zone) plus ``hr/employees.csv``; a row counts when its user is an
employee's id, e-mail or GitHub login (trimmed, case-folded) and its day lies in the employment;
active = at least one counted row with interactions > 0 in the quarter.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def plain_pandas(inputs: Path, tz: str = "Europe/Berlin") -> list[dict]:
    import pandas as pd

    gateway = inputs / "usage" / "gateway"
    frames = []
    for path in sorted(gateway.glob("*.csv")):
        df = pd.read_csv(path, dtype={"user": str})
        df["day"] = pd.to_datetime(df["event_time"].str.slice(0, 10))
        frames.append(df[["day", "user", "interactions"]])
    for path in sorted(gateway.glob("*.jsonl")):
        df = pd.read_json(path, lines=True, dtype={"user": str, "event_time": str})
        if df.empty:
            continue
        local = pd.to_datetime(df["event_time"], utc=True).dt.tz_convert(tz)
        df["day"] = local.dt.tz_localize(None).dt.normalize()
        df["interactions"] = 1
        frames.append(df[["day", "user", "interactions"]])
    usage = pd.concat(frames, ignore_index=True)
    usage["identity"] = usage["user"].str.strip().str.lower()

    employees = pd.read_csv(inputs / "hr" / "employees.csv", dtype=str)
    employees["hire_date"] = pd.to_datetime(employees["hire_date"])
    employees["exit_date"] = pd.to_datetime(employees["exit_date"])
    identities = pd.concat(  # employee id, e-mail, GitHub login -> employee id (first one wins)
        [employees[["employee_id"]].assign(identity=employees["employee_id"])]
        + [employees[["employee_id", column]].rename(columns={column: "identity"})
           for column in ("email", "github_login")])
    identities = identities.dropna(subset=["identity"])
    identities["identity"] = identities["identity"].str.strip().str.lower()
    identities = identities[identities["identity"] != ""].drop_duplicates(subset=["identity"])

    matched = usage.merge(identities[["identity", "employee_id"]], on="identity")
    matched = matched.merge(employees[["employee_id", "department", "hire_date", "exit_date"]], on="employee_id")
    employed = (matched["day"] >= matched["hire_date"]) & (
        matched["exit_date"].isna() | (matched["day"] <= matched["exit_date"]))
    matched = matched[employed].copy()
    matched["quarter"] = matched["day"].dt.year.astype(str) + "-Q" + matched["day"].dt.quarter.astype(str)

    interactions = matched.groupby(["quarter", "department"])["interactions"].sum()
    active = (matched[matched["interactions"] > 0]
              .groupby(["quarter", "department"])["employee_id"].nunique())
    table = pd.DataFrame({"active_users": active, "interactions": interactions}).fillna(0).sort_index()
    return [{"quarter": q, "department": d, "active_users": int(r.active_users), "interactions": int(r.interactions)}
            for (q, d), r in table.iterrows()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", type=Path)
    parser.add_argument("--tz", default="Europe/Berlin", help="company time zone (config company.timezone)")
    parser.add_argument("--json", type=Path, help="write the rows as JSON to this file")
    args = parser.parse_args()
    rows = plain_pandas(args.inputs, args.tz)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    else:
        for r in rows:
            sys.stdout.write(f"{r['quarter']}\t{r['department']}\t{r['active_users']}\t{r['interactions']}\n")


if __name__ == "__main__":
    main()
