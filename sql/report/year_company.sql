-- The yearly report: the company's published figures in every quarter (Python picks the year's, the
-- previous year's and the baseline's). A suppressed company row gives no figure; favorability is the
-- mean of the constructs' company favorability in the quarter's survey wave (shown constructs only).
WITH usage AS (
    SELECT quarter,
           CASE WHEN NOT suppressed THEN headcount END AS headcount,
           CASE WHEN NOT suppressed THEN active_users END AS active_users,
           CASE WHEN NOT suppressed THEN active_user_rate END AS active_user_rate,
           CASE WHEN NOT suppressed THEN regular_users END AS regular_users,
           CASE WHEN NOT suppressed THEN regular_user_rate END AS regular_user_rate,
           CASE WHEN NOT suppressed THEN interactions END AS interactions
    FROM marts.kpi_usage WHERE segment_type = 'company'
),
competence AS (
    SELECT quarter,
           CASE WHEN NOT suppressed THEN skill_score_to_date END AS skill_score_to_date,
           CASE WHEN NOT suppressed THEN proficient_rate_to_date END AS proficient_rate_to_date,
           CASE WHEN NOT suppressed THEN trained_share END AS trained_share,
           CASE WHEN NOT suppressed THEN assessment_coverage END AS assessment_coverage
    FROM marts.kpi_competence WHERE segment_type = 'company'
),
business AS (
    SELECT quarter, hours_saved, time_savings_eur, quality_savings_eur
    FROM marts.kpi_business WHERE process = 'all' AND department = 'all'
),
culture AS (
    SELECT quarter, avg(favorability) FILTER (WHERE NOT suppressed) AS favorability
    FROM marts.kpi_culture WHERE segment_type = 'company' GROUP BY quarter
)
SELECT usage.quarter, usage.headcount, usage.active_users, usage.active_user_rate, usage.regular_users,
       usage.regular_user_rate, usage.interactions, competence.skill_score_to_date,
       competence.proficient_rate_to_date, competence.trained_share, competence.assessment_coverage,
       business.hours_saved, business.time_savings_eur, business.quality_savings_eur, culture.favorability
FROM usage
LEFT JOIN competence ON usage.quarter = competence.quarter
LEFT JOIN business ON usage.quarter = business.quarter
LEFT JOIN culture ON usage.quarter = culture.quarter
ORDER BY usage.quarter
