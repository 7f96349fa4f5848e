-- The parts of the ROI series (docs/metrics.md §5), one row per programme month m = 1..N and
-- part: each ledger category, participant time, time and quality savings per (process,
-- department), and the estimated (interaction-based) benefits, which never enter the measured
-- benefits. Ledger lines carry their department when the ledger gives one; participant time the
-- trainee's department. A row of part 'month' (amount 0) lists every month 1..N.
--
-- kpi.roi runs it into the temporary table roi_parts; sql/intermediate/int_roi_monthly_inputs.sql
-- sums it per month (the series), kpi.roi_segments per department and process. The savings are
-- computed from the temporary table roi_benefit_lines (sql/intermediate/int_roi_benefit_lines.sql,
-- loaded first to the horizon: the one place that reads the process data, the baseline and the
-- departments' hourly costs; the workbook reads the same lines). Parameters:
--   $program_start            DATE     month 1 is its calendar month
--   $baseline_months          INTEGER  baseline window B = that many calendar months before month 1
--   $horizon_months           INTEGER  the series never runs past this month
--   $include_training_time    BOOLEAN  add training hours x hourly cost as participant_time
--   $minutes_tool             VARCHAR[] with $minutes_per_interaction DOUBLE[]:
--                                      benefits.time_saved_minutes_per_interaction (may be empty)
--
-- N = the last month with any cost or process data (ledger, or trainings when they count as a
-- cost), at most $horizon_months; 0 rows when there is none.
WITH params AS (
    SELECT
        date_trunc('month', $program_start::DATE)::DATE AS start_month,
        $baseline_months::INTEGER                      AS baseline_months,
        $horizon_months::INTEGER                       AS horizon_months,
        $include_training_time::BOOLEAN                AS include_training_time,
        len($minutes_tool::VARCHAR[]) > 0              AS has_minutes
),
minutes_per_interaction AS (
    SELECT
        unnest($minutes_tool::VARCHAR[])           AS tool,
        unnest($minutes_per_interaction::DOUBLE[]) AS minutes
),
-- Ledger lines; booked before the start -> month 1; credit notes stay negative.
ledger AS (
    SELECT
        greatest(1, date_diff('month', p.start_month, date_trunc('month', c.booked_on)::DATE) + 1) AS m,
        c.category,
        c.department,
        c.amount_eur
    FROM staging.costs c
    CROSS JOIN params p
),
-- Participant time: every training row (any status) by its start month; before the start -> month 1.
participant AS (
    SELECT
        greatest(1, date_diff('month', p.start_month, date_trunc('month', t.started_on)::DATE) + 1) AS m,
        e.department,
        t.hours * e.hourly_cost_eur AS amount
    FROM staging.trainings t
    JOIN staging.employees e ON e.employee_key = t.employee_key
    CROSS JOIN params p
    WHERE p.include_training_time
),
-- The months with process data (baseline months are m <= 0): they extend the series.
process AS (
    SELECT date_diff('month', p.start_month, date_trunc('month', pm.month)::DATE) + 1 AS m
    FROM staging.process_metrics pm
    CROSS JOIN params p
),
last_month AS (
    SELECT least((SELECT horizon_months FROM params), coalesce(max(m), 0)) AS n
    FROM (
        SELECT m FROM ledger
        UNION ALL SELECT m FROM participant
        UNION ALL SELECT m FROM process WHERE m >= 1
    ) AS months
),
months AS (
    SELECT
        s.m,
        (p.start_month + to_months(s.m - 1))::DATE AS month,
        last_day(p.start_month + to_months(s.m - 1))::DATE AS month_end
    FROM (SELECT unnest(range(1, n + 1)) AS m FROM last_month) s
    CROSS JOIN params p
),
pair_savings AS (           -- the benefit lines' savings, by the §3 definitions applied to a month
    SELECT
        bl.m,
        bl.process,
        bl.department,
        -- hours_saved = (baseline minutes per case - minutes per case) x cases / 60
        CASE WHEN bl.cases > 0 THEN
            (bl.baseline_minutes / nullif(bl.baseline_cases, 0) - bl.handling_minutes / bl.cases) * bl.cases / 60
        END * bl.hourly_cost_eur AS time_savings_eur,
        -- errors_avoided = (baseline error rate - error rate) x cases
        CASE WHEN bl.cases_with_errors > 0 THEN
            (bl.baseline_errors / nullif(bl.baseline_cases_with_errors, 0) - bl.errors / bl.cases_with_errors)
            * bl.cases
        END * bl.cost_per_error_eur AS quality_savings_eur
    FROM temp.roi_benefit_lines AS bl
    WHERE bl.m <= (SELECT n FROM last_month)
),
-- Estimated benefits: interactions x minutes saved per interaction of the tool / 60 x the
-- employee's hourly cost; tools without a value count 0.
estimated_by_month AS (
    SELECT
        date_diff('month', p.start_month, date_trunc('month', u.day)::DATE) + 1 AS m,
        sum(u.interactions * mi.minutes / 60 * e.hourly_cost_eur) AS estimated_benefits
    FROM intermediate.usage_activity u
    JOIN minutes_per_interaction mi ON mi.tool = u.tool
    JOIN staging.employees e ON e.employee_key = u.employee_key
    CROSS JOIN params p
    GROUP BY 1
),
parts AS (
    SELECT m, 'cost_' || CASE WHEN category IN ('external_training', 'internal_time', 'licenses', 'materials')
                              THEN category ELSE 'other' END AS part,
           department, NULL AS process, amount_eur AS amount
    FROM ledger
    UNION ALL
    SELECT m, 'cost_participant_time', department, NULL, amount FROM participant
    UNION ALL
    SELECT m, 'time_savings_eur', department, process, time_savings_eur FROM pair_savings
    WHERE time_savings_eur IS NOT NULL
    UNION ALL
    SELECT m, 'quality_savings_eur', department, process, quality_savings_eur FROM pair_savings
    WHERE quality_savings_eur IS NOT NULL
    UNION ALL
    SELECT m, 'estimated_benefits', NULL, NULL, estimated_benefits FROM estimated_by_month
    WHERE (SELECT has_minutes FROM params)
)
SELECT mo.m::INTEGER AS m, mo.month, 'month' AS part, NULL::VARCHAR AS department, NULL::VARCHAR AS process,
       0.0::DOUBLE AS amount
FROM months AS mo
UNION ALL
SELECT pa.m::INTEGER, mo.month, pa.part, pa.department, pa.process, pa.amount::DOUBLE
FROM parts AS pa
JOIN months AS mo ON mo.m = pa.m
