-- marts.roi_use_cases (docs/metrics.md §17): the business case of each use case in idea or pilot
-- status with an estimated saving: an estimate from the register, kept apart from the measured
-- benefits (never in the ROI). Parameters: $as_of (the data's last day), $min_group_size,
-- $implementation_hours (roi.use_case_implementation_hours).
WITH employed AS (          -- the people employed on $as_of, with their hourly cost and fte
    SELECT department, hourly_cost_eur, fte
    FROM staging.employees
    WHERE hire_date <= $as_of AND (exit_date IS NULL OR exit_date >= $as_of)
),
company_rate AS (
    SELECT sum(hourly_cost_eur * fte) / nullif(sum(fte), 0) AS hourly_cost FROM employed
),
department_rate AS (        -- a department of fewer than k people is valued at the company's rate
    SELECT
        d.department,
        CASE WHEN d.people < $min_group_size THEN c.hourly_cost ELSE d.hourly_cost END AS hourly_cost,
        d.people < $min_group_size                                                     AS pooled
    FROM (
        SELECT department, count(*) AS people, sum(hourly_cost_eur * fte) / nullif(sum(fte), 0) AS hourly_cost
        FROM employed GROUP BY department
    ) AS d
    CROSS JOIN company_rate AS c
)
SELECT
    u.use_case_id,
    u.title,
    u.department,
    u.status,
    u.self_developed,
    u.est_hours_saved_per_month,
    coalesce(r.hourly_cost, c.hourly_cost)                                       AS hourly_cost_eur,
    coalesce(r.pooled, true)                                                     AS hourly_cost_pooled,
    u.est_hours_saved_per_month * 12                                             AS expected_annual_hours,
    u.est_hours_saved_per_month * 12 * coalesce(r.hourly_cost, c.hourly_cost)    AS expected_annual_benefit_eur,
    $implementation_hours * coalesce(r.hourly_cost, c.hourly_cost)               AS implementation_cost_eur,
    CASE WHEN u.est_hours_saved_per_month > 0
         THEN $implementation_hours / u.est_hours_saved_per_month END            AS simple_payback_months
FROM staging.use_cases AS u
CROSS JOIN company_rate AS c
LEFT JOIN department_rate AS r ON r.department = u.department
WHERE lower(trim(u.status)) IN ('idea', 'pilot') AND u.est_hours_saved_per_month IS NOT NULL
ORDER BY expected_annual_benefit_eur DESC, u.use_case_id ASC
