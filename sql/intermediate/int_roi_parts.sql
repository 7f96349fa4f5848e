-- The parts of the ROI series (docs/metrics.md §5), one row per programme month m = 1..N and
-- part: each ledger category, participant time, time and quality savings per (process,
-- department), and the estimated (interaction-based) benefits, which never enter the measured
-- benefits. Ledger lines carry their department when the ledger gives one; participant time the
-- trainee's department. A row of part 'month' (amount 0) lists every month 1..N.
--
-- kpi.roi runs it into the temporary table roi_parts; sql/intermediate/int_roi_monthly_inputs.sql
-- sums it per month (the series), kpi.roi_segments per department and process. Parameters:
--   $program_start            DATE     month 1 is its calendar month
--   $baseline_months          INTEGER  baseline window B = that many calendar months before month 1
--   $horizon_months           INTEGER  the series never runs past this month
--   $include_training_time    BOOLEAN  add training hours x hourly cost as participant_time
--   $min_group_size           INTEGER  k: a department of fewer people has its hours valued at the
--                                      company's hourly cost of the month (docs/metrics.md §3)
--   $cost_per_error_process   VARCHAR[] with $cost_per_error_eur DOUBLE[]: benefits.cost_per_error_eur
--   $default_cost_per_error   DOUBLE   its `default`
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
        $default_cost_per_error::DOUBLE                AS default_cost_per_error,
        len($minutes_tool::VARCHAR[]) > 0              AS has_minutes
),
cost_per_error AS (
    SELECT
        unnest($cost_per_error_process::VARCHAR[]) AS process,
        unnest($cost_per_error_eur::DOUBLE[])      AS eur
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
-- Process data with its month number (baseline months are m <= 0).
process AS (
    SELECT
        date_diff('month', p.start_month, date_trunc('month', pm.month)::DATE) + 1 AS m,
        pm.process,
        pm.department,
        pm.cases,
        pm.handling_minutes,
        pm.errors
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
-- Baseline per (process, department): ratios of sums over B. The error rate uses only rows
-- that report errors (an empty errors cell is unknown, not zero).
baseline AS (
    SELECT
        pr.process,
        pr.department,
        sum(pr.handling_minutes)::DOUBLE / nullif(sum(pr.cases), 0) AS baseline_minutes_per_case,
        sum(pr.errors)::DOUBLE
            / nullif(sum(pr.cases) FILTER (WHERE pr.errors IS NOT NULL), 0) AS baseline_error_rate
    FROM process pr
    CROSS JOIN params p
    WHERE pr.m BETWEEN 1 - p.baseline_months AND 0
    GROUP BY pr.process, pr.department
),
pair_month AS (
    SELECT
        pr.m,
        pr.process,
        pr.department,
        sum(pr.cases)::DOUBLE                                        AS cases,
        sum(pr.handling_minutes)::DOUBLE                             AS minutes,
        sum(pr.errors)::DOUBLE                                       AS errors,
        sum(pr.cases) FILTER (WHERE pr.errors IS NOT NULL)::DOUBLE   AS cases_with_errors
    FROM process pr
    WHERE pr.m BETWEEN 1 AND (SELECT n FROM last_month)
    GROUP BY pr.m, pr.process, pr.department
),
-- The department's hourly cost in month m: sum(cost x fte x days employed) / sum(fte x days employed).
employed AS (
    SELECT
        mo.m,
        e.department,
        e.hourly_cost_eur,
        e.fte,
        date_diff('day', greatest(e.hire_date, mo.month),
                  least(coalesce(e.exit_date, mo.month_end), mo.month_end)) + 1 AS days
    FROM months mo
    JOIN staging.employees e
      ON e.hire_date <= mo.month_end
     AND (e.exit_date IS NULL OR e.exit_date >= mo.month)
),
company_hourly_cost AS (     -- everyone employed in month m
    SELECT m, sum(hourly_cost_eur * fte * days) / nullif(sum(fte * days), 0) AS hourly_cost
    FROM employed
    GROUP BY m
),
department_hourly_cost AS (  -- a department of fewer than k people gets the company's rate, as in §3
    SELECT
        d.m,
        d.department,
        CASE WHEN d.people < $min_group_size THEN c.hourly_cost ELSE d.hourly_cost END AS hourly_cost
    FROM (
        SELECT m, department, count(*) AS people,
               sum(hourly_cost_eur * fte * days) / nullif(sum(fte * days), 0) AS hourly_cost
        FROM employed
        GROUP BY m, department
    ) AS d
    JOIN company_hourly_cost AS c USING (m)
),
pair_savings AS (
    SELECT
        pm.m,
        pm.process,
        pm.department,
        -- hours_saved = (baseline minutes per case - minutes per case) x cases / 60
        CASE WHEN pm.cases > 0 THEN
            (b.baseline_minutes_per_case - pm.minutes / pm.cases) * pm.cases / 60
        END * dhc.hourly_cost AS time_savings_eur,
        -- errors_avoided = (baseline error rate - error rate) x cases
        CASE WHEN pm.cases_with_errors > 0 THEN
            (b.baseline_error_rate - pm.errors / pm.cases_with_errors) * pm.cases
        END * coalesce(cpe.eur, p.default_cost_per_error) AS quality_savings_eur
    FROM pair_month pm
    CROSS JOIN params p
    LEFT JOIN baseline b
      ON b.process = pm.process AND b.department = pm.department
    LEFT JOIN department_hourly_cost dhc
      ON dhc.m = pm.m AND dhc.department = pm.department
    LEFT JOIN cost_per_error cpe
      ON cpe.process = pm.process
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
