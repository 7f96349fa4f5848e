"""The demo's learning gain against what the generator injected (fixtures/demo/ground_truth.json,
`skill_model`): each person's gain right after their first completed training is N(22, 7), plus 5
for a person who completed a prompt masterclass, at least 3; a re-assessment adds N(4, 5).

The pairs are first found in the raw files with polars (hr/trainings.csv, hr/assessments.csv),
independently of the pipeline, and must be the mart's exactly; then their mean gain must be the
injected one within 3 standard errors (7 / sqrt(n)) plus 0.5 for the rounding to whole points and
the floor. Uses the session fixture `demo_warehouse` read-only.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import duckdb
import polars as pl
import pytest

from kpi.paths import DEMO_DIR

TRUTH = json.loads((DEMO_DIR / "ground_truth.json").read_text(encoding="utf-8"))["skill_model"]
QUARTER_END = dt.date(2026, 9, 30)  # the demo's last quarter, 2026-Q3


@pytest.fixture(scope="module")
def pairs() -> pl.DataFrame:
    trainings = pl.read_csv(DEMO_DIR / "hr" / "trainings.csv", infer_schema_length=0).with_columns(
        pl.col("started_on").str.to_date(), pl.col("completed_on").str.to_date())
    first = (trainings.filter((pl.col("status") == "completed") & (pl.col("completed_on") <= QUARTER_END))
             .sort("completed_on", "started_on", "course_id").group_by("employee_id", maintain_order=True).first()
             .select("employee_id", "started_on", "completed_on"))
    masterclass = (trainings.filter((pl.col("status") == "completed") & (pl.col("format") == "prompt_masterclass"))
                   .select("employee_id").unique().with_columns(masterclass=pl.lit(True)))
    scores = (pl.read_csv(DEMO_DIR / "hr" / "assessments.csv", infer_schema_length=0)
              .filter(pl.col("instrument") == "ai_literacy")
              .with_columns(pl.col("assessed_on").str.to_date(),
                            score=pl.col("score").cast(pl.Float64) * 100 / pl.col("max_score").cast(pl.Float64))
              .filter(pl.col("assessed_on") <= QUARTER_END))
    joined = first.join(scores, on="employee_id")
    pre = (joined.filter(pl.col("assessed_on") < pl.col("started_on")).sort("assessed_on")
           .group_by("employee_id").agg(pre=pl.col("score").last()))
    post = (joined.filter(pl.col("assessed_on") > pl.col("completed_on")).sort("assessed_on")
            .group_by("employee_id").agg(post=pl.col("score").first(), post_on=pl.col("assessed_on").first()))
    out = pre.join(post, on="employee_id").join(masterclass, on="employee_id", how="left")
    return out.with_columns(gain=pl.col("post") - pl.col("pre"), masterclass=pl.col("masterclass").fill_null(False))


@pytest.fixture(scope="module")
def company(demo_warehouse) -> dict:
    with duckdb.connect(str(demo_warehouse), read_only=True) as con:
        relation = con.sql("SELECT * FROM marts.kpi_learning WHERE quarter = '2026-Q3' AND segment_type = 'company'")
        return dict(zip(relation.columns, relation.fetchall()[0]))


def test_the_pairs_are_those_of_the_raw_files(pairs, company):
    assert company["people_with_pre_and_post"] == pairs.height == 124
    assert company["pre_mean"] == pytest.approx(pairs["pre"].mean(), rel=1e-12)
    assert company["post_mean"] == pytest.approx(pairs["post"].mean(), rel=1e-12)


def test_the_injected_gain_is_recovered(pairs, company):
    """Expected: 22 + 5 x (share with a masterclass); measured 21.87 on the demo (124 people, 10 %
    with a masterclass: expected 22.52, standard error 0.63)."""
    n = pairs.height
    expected = TRUTH["gain_mean"] + TRUTH["masterclass_bonus"] * pairs["masterclass"].mean()
    standard_error = TRUTH["gain_sd"] / math.sqrt(n)
    assert abs(company["gain"] - expected) <= 3 * standard_error + 0.5, (company["gain"], expected)
    # the interval is the paired t one: t(0.975, n - 1) standard errors of the measured gains
    half = (company["gain_ci_high"] - company["gain_ci_low"]) / 2
    assert half == pytest.approx(1.9794 * pairs["gain"].std() / math.sqrt(n), rel=1e-3)  # t(0.975, 123)


def test_the_injected_retention_is_recovered(pairs, company, demo_warehouse):
    """A re-assessment at least six months after the training adds N(4, 5) to the post score: the
    share of the gain retained is about 1 + 4 / gain."""
    m = company["reassessed_6m"]
    assert m >= 20
    expected = 1 + TRUTH["reassessment"]["gain_mean"] / company["gain"]
    tolerance = 3 * TRUTH["reassessment"]["gain_sd"] / math.sqrt(m) / company["gain"] + 0.05
    assert abs(company["retained_6m"] - expected) <= tolerance, (company["retained_6m"], expected)


def test_the_headline_card_gives_n_and_coverage(demo_warehouse):
    """The skill card shows the score to date with the people behind it and their share."""
    from kpi.report.formatting import fmt_num, fmt_pct

    with duckdb.connect(str(demo_warehouse), read_only=True) as con:
        n, coverage, skill = con.sql("SELECT assessed_ever, assessment_coverage, skill_score_to_date "
                                     "FROM marts.kpi_competence WHERE quarter = '2026-Q3' "
                                     "AND segment_type = 'company'").fetchall()[0]
    page = next((demo_warehouse.parent / "reports").glob("report-2026-Q3.html")).read_text(encoding="utf-8")
    assert n > 150 and 0.8 < coverage <= 1
    assert f"<div class=\"value\">{fmt_num(skill, 1)} / 100</div>" in page
    assert f"n = {fmt_num(n)} assessed to date, {fmt_pct(coverage, 0)} of the headcount" in page
