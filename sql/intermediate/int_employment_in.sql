-- Employment in a period: one row per employee whose employment [hire_date, exit_date] overlaps
-- [period_start, period_end] (both inclusive; exit_date is the last day employed, NULL = still
-- employed), with the days employed inside the period. Department and target group are the
-- employee's CURRENT HR row (a transfer restates history).
--   intermediate.employment_in($quarter_start, $quarter_end)   -> P(q) with days employed
--   fte_employed = fte x days employed / days of the period     (docs/metrics.md §1 fte)
CREATE OR REPLACE MACRO intermediate.employment_in(period_start, period_end) AS TABLE
SELECT
    e.employee_key,
    e.department,
    e.target_group,
    e.fte,
    e.hourly_cost_eur,
    (least(coalesce(e.exit_date, CAST(period_end AS DATE)), CAST(period_end AS DATE))
        - greatest(e.hire_date, CAST(period_start AS DATE)) + 1)::BIGINT AS days_employed,
    (CAST(period_end AS DATE) - CAST(period_start AS DATE) + 1)::BIGINT AS period_days,
    e.fte * days_employed / period_days AS fte_employed
FROM staging.employees AS e
WHERE e.hire_date <= CAST(period_end AS DATE)
  AND (e.exit_date IS NULL OR e.exit_date >= CAST(period_start AS DATE));
