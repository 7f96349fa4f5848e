-- marts.kpi_business rows of ONE quarter (docs/metrics.md §3): one row per (process, department) with
-- process data in q, plus the company row (process = department = 'all') that is always present.
-- Process figures come from aggregate process data; the figures about a department's people
-- (fte and what divides by it) follow its usage row (kpi.marts), and a department of fewer than
-- k people has its hours valued at the company's hourly cost ($min_group_size = k).
-- Parameters: $quarter, $quarter_start, $quarter_end, $min_group_size, $baseline_start, $baseline_end (the
-- $baseline_months calendar months before the month of program.start), $baseline_months,
-- $error_cost_processes / $error_cost_eur (benefits.cost_per_error_eur without 'default', as two
-- lists), $default_cost_per_error, $has_tool_minutes, $tool_names / $tool_minutes
-- (benefits.time_saved_minutes_per_interaction as two lists).
-- Every ratio is a ratio of sums over the period. Error rates use the months that report errors;
-- csat is the case-weighted mean of the months that report it (NULL on the company row).
WITH in_quarter AS (
    SELECT process, department,
           sum(cases)                                          AS cases,
           sum(handling_minutes)                               AS handling_minutes,
           sum(errors)                                         AS errors,
           sum(cases) FILTER (WHERE errors IS NOT NULL)        AS cases_with_errors,
           sum(csat * cases) FILTER (WHERE csat IS NOT NULL)   AS csat_points,
           sum(cases) FILTER (WHERE csat IS NOT NULL)          AS cases_with_csat
    FROM staging.process_metrics
    WHERE month BETWEEN $quarter_start AND $quarter_end
    GROUP BY process, department
),
in_baseline AS (
    SELECT process, department,
           sum(cases)                                          AS cases,
           sum(handling_minutes)                               AS handling_minutes,
           sum(errors)                                         AS errors,
           sum(cases) FILTER (WHERE errors IS NOT NULL)        AS cases_with_errors,
           sum(csat * cases) FILTER (WHERE csat IS NOT NULL)   AS csat_points,
           sum(cases) FILTER (WHERE csat IS NOT NULL)          AS cases_with_csat
    FROM staging.process_metrics
    WHERE month BETWEEN $baseline_start AND $baseline_end
    GROUP BY process, department
),
employed_in_quarter AS (
    SELECT * FROM intermediate.employment_in($quarter_start, $quarter_end)
),
company_rate AS (           -- the weighted hourly cost of everyone employed in q
    SELECT sum(hourly_cost_eur * fte * days_employed) / nullif(sum(fte * days_employed), 0) AS hourly_cost_eur
    FROM employed_in_quarter
),
department_quarter AS (     -- §1 fte of the department in q and its weighted hourly cost; a
    SELECT department,      -- department of fewer than k people gets the company's rate (pooled)
           sum(fte_employed)                                   AS fte,
           count(*) < $min_group_size                          AS hourly_cost_pooled,
           CASE WHEN count(*) < $min_group_size THEN (SELECT hourly_cost_eur FROM company_rate)
                ELSE sum(hourly_cost_eur * fte * days_employed) / nullif(sum(fte * days_employed), 0)
           END                                                 AS hourly_cost_eur
    FROM employed_in_quarter
    GROUP BY department
),
department_baseline AS (    -- fte of the department over B (days employed in B / days of B)
    SELECT department, sum(fte_employed) AS fte
    FROM intermediate.employment_in($baseline_start, $baseline_end)
    GROUP BY department
),
error_costs AS (
    SELECT unnest($error_cost_processes::VARCHAR[]) AS process,
           unnest($error_cost_eur::DOUBLE[])        AS cost_per_error
),
ratios AS (
    SELECT
        q.process,
        q.department,
        q.cases,
        q.handling_minutes,
        q.handling_minutes / nullif(q.cases, 0)                     AS minutes_per_case,
        b.handling_minutes / nullif(b.cases, 0)                     AS baseline_minutes_per_case,
        q.errors,
        q.errors / nullif(q.cases_with_errors, 0)                   AS error_rate,
        b.errors / nullif(b.cases_with_errors, 0)                   AS baseline_error_rate,
        q.csat_points / nullif(q.cases_with_csat, 0)                AS csat,
        b.csat_points / nullif(b.cases_with_csat, 0)                AS baseline_csat,
        dq.fte,
        q.cases / nullif(dq.fte, 0)                                 AS cases_per_fte,
        (b.cases * 3.0 / $baseline_months) / nullif(db.fte, 0)      AS baseline_cases_per_fte,
        dq.hourly_cost_eur,
        dq.hourly_cost_pooled,
        coalesce(ec.cost_per_error, $default_cost_per_error)        AS cost_per_error
    FROM in_quarter AS q
    LEFT JOIN in_baseline         AS b  USING (process, department)
    LEFT JOIN department_quarter  AS dq ON dq.department = q.department
    LEFT JOIN department_baseline AS db ON db.department = q.department
    LEFT JOIN error_costs         AS ec ON ec.process = q.process
),
measured AS (
    SELECT
        *,
        1 - minutes_per_case / nullif(baseline_minutes_per_case, 0)    AS time_reduction,
        (baseline_minutes_per_case - minutes_per_case) * cases / 60.0  AS hours_saved,
        (baseline_error_rate - error_rate) * cases                     AS errors_avoided,
        cases_per_fte / nullif(baseline_cases_per_fte, 0) - 1          AS cases_per_fte_growth,
        csat - baseline_csat                                           AS csat_change
    FROM ratios
),
tool_minutes AS (
    SELECT unnest($tool_names::VARCHAR[]) AS tool, unnest($tool_minutes::DOUBLE[]) AS minutes
),
estimated AS (              -- kept apart from measured savings; NULL without per-tool minutes
    SELECT
        CASE WHEN $has_tool_minutes
             THEN coalesce(sum(u.interactions * coalesce(t.minutes, 0) / 60.0), 0) END AS estimated_hours_saved,
        CASE WHEN $has_tool_minutes
             THEN coalesce(sum(u.interactions * coalesce(t.minutes, 0) / 60.0 * e.hourly_cost_eur), 0) END AS estimated_savings_eur
    FROM intermediate.usage_activity AS u
    JOIN staging.employees AS e USING (employee_key)
    LEFT JOIN tool_minutes AS t USING (tool)
    WHERE u.day BETWEEN $quarter_start AND $quarter_end
),
company AS (
    SELECT
        sum(cases)               AS cases,
        sum(handling_minutes)    AS handling_minutes,
        sum(errors)              AS errors,
        sum(hours_saved)         AS hours_saved,
        sum(errors_avoided)      AS errors_avoided,
        sum(hours_saved * hourly_cost_eur)       AS time_savings_eur,
        sum(errors_avoided * cost_per_error)     AS quality_savings_eur
    FROM measured
)
SELECT
    $quarter AS quarter,
    process,
    department,
    cases,
    handling_minutes,
    minutes_per_case,
    baseline_minutes_per_case,
    time_reduction,
    hours_saved,
    errors,
    error_rate,
    baseline_error_rate,
    errors_avoided,
    fte,
    cases_per_fte,
    baseline_cases_per_fte,
    cases_per_fte_growth,
    hourly_cost_eur,
    hourly_cost_pooled,
    hours_saved * hourly_cost_eur      AS time_savings_eur,
    errors_avoided * cost_per_error    AS quality_savings_eur,
    csat,
    baseline_csat,
    csat_change,
    NULL                               AS estimated_hours_saved,
    NULL                               AS estimated_savings_eur
FROM measured
UNION ALL BY NAME
SELECT
    $quarter AS quarter,
    'all'    AS process,
    'all'    AS department,
    c.cases,
    c.handling_minutes,
    c.hours_saved,
    c.errors,
    c.errors_avoided,
    c.time_savings_eur,
    c.quality_savings_eur,
    e.estimated_hours_saved,
    e.estimated_savings_eur
FROM company AS c
CROSS JOIN estimated AS e
