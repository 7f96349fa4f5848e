-- The measured benefits of the ROI series line by line, for the controllers' workbook
-- (kpi roi --export FILE.xlsx, kpi/roi_workbook.py): one row per programme month m = 1..$last_month,
-- process and department with process data, holding the inputs of the savings rather than the
-- savings, so that the workbook computes them with formulas. The series' parts
-- (sql/intermediate/int_roi_parts.sql) compute their savings from these lines (kpi.roi.load_roi_parts
-- loads them to the horizon first), with the §3 definitions applied to a month:
--   hours_saved   = (baseline minutes per case - handling_minutes / cases) x cases / 60
--   time savings  = hours_saved x hourly_cost_eur   (none without cases, baseline or hourly cost)
--   errors_avoided = (baseline error rate - errors / cases_with_errors) x cases
--   quality savings = errors_avoided x cost_per_error_eur   (none without rows reporting errors)
-- The workbook adds a difference line where these do not sum to the stored series (staging changed
-- since kpi run built marts.roi_monthly), and tests/e2e/test_roi_workbook.py pins that the demo has none.
-- Parameters (all read back from marts.roi_assumptions, so no config is needed):
--   $program_start, $baseline_months, $min_group_size, $cost_per_error_process / $cost_per_error_eur,
--   $default_cost_per_error: benefits.cost_per_error_eur (processes, euros) and its `default`;
--   $last_month = N, the series' last month (the horizon when kpi.roi loads them for the parts).
WITH params AS (
    SELECT
        date_trunc('month', $program_start::DATE)::DATE AS start_month,
        $baseline_months::INTEGER                      AS baseline_months,
        $last_month::INTEGER                           AS last_month,
        $default_cost_per_error::DOUBLE                AS default_cost_per_error
),
cost_per_error AS (
    SELECT
        unnest($cost_per_error_process::VARCHAR[]) AS process,
        unnest($cost_per_error_eur::DOUBLE[])      AS eur
),
process AS (
    SELECT
        date_diff('month', p.start_month, date_trunc('month', pm.month)::DATE) + 1 AS m,
        pm.process,
        pm.department,
        pm.cases,
        pm.handling_minutes,
        pm.errors
    FROM staging.process_metrics AS pm
    CROSS JOIN params AS p
),
months AS (
    SELECT
        s.m,
        (p.start_month + to_months(s.m - 1))::DATE            AS month,
        last_day(p.start_month + to_months(s.m - 1))::DATE AS month_end
    FROM (SELECT unnest(range(1, (SELECT last_month FROM params) + 1)) AS m) AS s
    CROSS JOIN params AS p
),
baseline AS (
    SELECT
        pr.process,
        pr.department,
        sum(pr.cases)::DOUBLE                                      AS baseline_cases,
        sum(pr.handling_minutes)::DOUBLE                           AS baseline_minutes,
        sum(pr.cases) FILTER (WHERE pr.errors IS NOT NULL)::DOUBLE AS baseline_cases_with_errors,
        sum(pr.errors)::DOUBLE                                     AS baseline_errors
    FROM process AS pr
    CROSS JOIN params AS p
    WHERE pr.m BETWEEN 1 - p.baseline_months AND 0
    GROUP BY pr.process, pr.department
),
pair_month AS (
    SELECT
        pr.m,
        pr.process,
        pr.department,
        sum(pr.cases)::DOUBLE                                      AS cases,
        sum(pr.handling_minutes)::DOUBLE                           AS handling_minutes,
        sum(pr.cases) FILTER (WHERE pr.errors IS NOT NULL)::DOUBLE AS cases_with_errors,
        sum(pr.errors)::DOUBLE                                     AS errors
    FROM process AS pr
    WHERE pr.m BETWEEN 1 AND (SELECT last_month FROM params)
    GROUP BY pr.m, pr.process, pr.department
),
employed AS (
    SELECT
        mo.m,
        e.department,
        e.hourly_cost_eur,
        e.fte,
        date_diff('day', greatest(e.hire_date, mo.month),
                  least(coalesce(e.exit_date, mo.month_end), mo.month_end)) + 1 AS days
    FROM months AS mo
    INNER JOIN staging.employees AS e
        ON e.hire_date <= mo.month_end
        AND (e.exit_date IS NULL OR e.exit_date >= mo.month)
),
company_hourly_cost AS (
    SELECT m, sum(hourly_cost_eur * fte * days) / nullif(sum(fte * days), 0) AS hourly_cost
    FROM employed
    GROUP BY m
),
department_hourly_cost AS (  -- a department of fewer than k people gets the company's rate
    SELECT
        d.m,
        d.department,
        d.people < $min_group_size AS pooled,
        CASE WHEN d.people < $min_group_size THEN c.hourly_cost ELSE d.hourly_cost END AS hourly_cost
    FROM (
        SELECT m, department, count(*) AS people,
               sum(hourly_cost_eur * fte * days) / nullif(sum(fte * days), 0) AS hourly_cost
        FROM employed
        GROUP BY m, department
    ) AS d
    INNER JOIN company_hourly_cost AS c USING (m)
)
SELECT
    pm.m::INTEGER                                    AS m,
    mo.month,
    pm.process,
    pm.department,
    pm.cases,
    pm.handling_minutes,
    b.baseline_cases,
    b.baseline_minutes,
    dhc.hourly_cost                                  AS hourly_cost_eur,
    dhc.pooled                                       AS hourly_cost_pooled,
    pm.cases_with_errors,
    pm.errors,
    b.baseline_cases_with_errors,
    b.baseline_errors,
    coalesce(cpe.eur, p.default_cost_per_error)      AS cost_per_error_eur
FROM pair_month AS pm
CROSS JOIN params AS p
INNER JOIN months AS mo ON mo.m = pm.m
LEFT JOIN baseline AS b
    ON b.process = pm.process AND b.department = pm.department
LEFT JOIN department_hourly_cost AS dhc
    ON dhc.m = pm.m AND dhc.department = pm.department
LEFT JOIN cost_per_error AS cpe
    ON cpe.process = pm.process
ORDER BY pm.m, pm.process, pm.department
