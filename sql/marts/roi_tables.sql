-- The ROI marts (METRICS.md §5, OUTPUTS.md). Written by the `roi` Dagster asset
-- (pipelines/defs/roi) through kpi.roi_marts.build_roi_tables, which replaces every row on each
-- run inside one transaction. Figures are unrounded; NULL means "not defined / not reached".
CREATE SCHEMA IF NOT EXISTS marts;

-- One row per programme month m = 1..N, with the configured assumptions applied. The raw columns
-- (cost_*, time_savings_eur, quality_savings_eur, estimated_benefits) are the series itself:
-- `kpi roi` rebuilds the series from them and recomputes every figure with its what-if flags.
CREATE TABLE IF NOT EXISTS marts.roi_monthly (
    month                   DATE    NOT NULL,   -- first day of the calendar month
    m                       INTEGER NOT NULL,   -- 1 = the month of program.start
    cost_external_training  DOUBLE  NOT NULL,
    cost_internal_time      DOUBLE  NOT NULL,
    cost_licenses           DOUBLE  NOT NULL,
    cost_materials          DOUBLE  NOT NULL,
    cost_other              DOUBLE  NOT NULL,
    cost_participant_time   DOUBLE  NOT NULL,   -- training hours x hourly cost (0 when excluded)
    costs                   DOUBLE  NOT NULL,   -- C_m
    time_savings_eur        DOUBLE  NOT NULL,
    quality_savings_eur     DOUBLE  NOT NULL,
    gross_benefits          DOUBLE  NOT NULL,   -- G_m
    benefits                DOUBLE  NOT NULL,   -- B_m = G_m x attribution x confidence
    estimated_benefits      DOUBLE,             -- from interactions: an estimate, never added
    cum_costs               DOUBLE  NOT NULL,
    cum_benefits            DOUBLE  NOT NULL,
    roi_pct                 DOUBLE,             -- percent; NULL while cum_costs = 0
    bcr                     DOUBLE,
    cum_gross_benefits      DOUBLE  NOT NULL,
    cum_estimated_benefits  DOUBLE,
    PRIMARY KEY (m)
);

-- "As of" each calendar quarter's last month m in the series.
CREATE TABLE IF NOT EXISTS marts.roi_quarterly (
    quarter                    VARCHAR NOT NULL,
    m                          INTEGER NOT NULL,
    cum_costs                  DOUBLE  NOT NULL,
    cum_benefits               DOUBLE  NOT NULL,
    cum_gross_benefits         DOUBLE  NOT NULL,
    roi_pct                    DOUBLE,
    bcr                        DOUBLE,
    break_even_month           INTEGER,
    payback_months             DOUBLE,
    npv                        DOUBLE  NOT NULL,
    discounted_payback_months  DOUBLE,
    year1_roi_pct              DOUBLE,
    PRIMARY KEY (quarter)
);

-- Tornado (assumption x case low/high) sorted by swing, then the scenarios
-- (assumption = 'scenario', case = its name). sort_order keeps that order.
CREATE TABLE IF NOT EXISTS marts.roi_sensitivity (
    assumption  VARCHAR NOT NULL,
    "case"      VARCHAR NOT NULL,
    roi_pct     DOUBLE,
    npv         DOUBLE  NOT NULL,
    swing       DOUBLE,             -- |ROI_high - ROI_low| in points; NULL for scenarios
    sort_order  INTEGER NOT NULL,
    PRIMARY KEY (assumption, "case")
);

-- Plan = budget_per_employee_eur x headcount on program.start x budget_split; actual = ledger
-- months 1-12 by category; difference = actual - plan (positive = over plan).
CREATE TABLE IF NOT EXISTS marts.budget_plan_vs_actual (
    category        VARCHAR NOT NULL,
    plan_eur        DOUBLE  NOT NULL,
    actual_eur      DOUBLE  NOT NULL,
    difference_eur  DOUBLE  NOT NULL,
    sort_order      INTEGER NOT NULL,
    PRIMARY KEY (category)
);

-- Every assumption the ROI figures were computed with, one row each, so that `kpi roi` can
-- recompute from the warehouse alone and the report can print them all.
CREATE TABLE IF NOT EXISTS marts.roi_assumptions (
    name         VARCHAR NOT NULL,  -- the config key, e.g. benefits.attribution
    value        DOUBLE,            -- numeric value (NULL for text and dates)
    value_text   VARCHAR NOT NULL,  -- the value as text (dates ISO, booleans true/false)
    unit         VARCHAR NOT NULL,  -- fraction, EUR, EUR/hour, EUR/error, minutes, months, ...
    source       VARCHAR NOT NULL,  -- config (given in the YAML), default, or derived (from data)
    explanation  VARCHAR NOT NULL,
    sort_order   INTEGER NOT NULL,
    PRIMARY KEY (name)
);
