-- marts.kpi_competence rows of ONE quarter (docs/metrics.md §2), before suppression.
-- Parameters: $quarter, $quarter_start, $quarter_end, $proficient_score_pct, $min_group_size
-- (subset rule: a metric over part of the group is NULL when fewer than k people contribute).
WITH people AS (
    SELECT * FROM intermediate.employment_in($quarter_start, $quarter_end)
),
members AS (
    SELECT 'company' AS segment_type, 'all' AS segment, employee_key FROM people
    UNION ALL
    SELECT 'department', department, employee_key FROM people
    UNION ALL
    SELECT 'target_group', target_group, employee_key FROM people
),
literacy AS (               -- latest ai_literacy result in q per employee
    SELECT * FROM intermediate.latest_assessment_in($quarter_start, $quarter_end, 'ai_literacy')
),
literacy_to_date AS (       -- latest ai_literacy result up to the end of q (any earlier quarter too)
    SELECT * FROM intermediate.latest_assessment_in(DATE '0001-01-01', $quarter_end, 'ai_literacy')
),
prompts AS (                -- every prompt_quality row in q
    SELECT employee_key, score * 100.0 / max_score AS score_pct
    FROM staging.assessments
    WHERE instrument = 'prompt_quality' AND assessed_on BETWEEN $quarter_start AND $quarter_end
),
outcomes AS (               -- successes and failures per employee in q (no day or week level needed)
    SELECT employee_key, sum(successes)::BIGINT AS successes, sum(failures)::BIGINT AS failures
    FROM intermediate.usage_activity
    WHERE day BETWEEN $quarter_start AND $quarter_end
    GROUP BY employee_key
),
trained AS (                -- >= 1 completed training, completed by the end of q
    SELECT DISTINCT employee_key
    FROM staging.trainings
    WHERE lower(trim(status)) = 'completed' AND completed_on <= $quarter_end
),
per_person AS (
    SELECT
        m.segment_type,
        m.segment,
        count(*)                                                                AS headcount,
        count(l.employee_key)                                                   AS assessed_employees,
        avg(l.score_pct)                                                        AS mean_skill,
        count(*) FILTER (WHERE l.score * 100.0 >= $proficient_score_pct * l.max_score) AS proficient,
        count(ld.employee_key)                                                  AS assessed_ever,
        avg(ld.score_pct)                                                       AS mean_skill_to_date,
        count(*) FILTER (WHERE ld.score * 100.0 >= $proficient_score_pct * ld.max_score) AS proficient_to_date,
        count(t.employee_key)                                                   AS trained,
        coalesce(sum(a.successes), 0)                                           AS successes,
        coalesce(sum(a.failures), 0)                                            AS failures,
        count(*) FILTER (WHERE a.successes > 0 OR a.failures > 0)               AS success_contributors
    FROM members AS m
    LEFT JOIN literacy AS l USING (employee_key)
    LEFT JOIN literacy_to_date AS ld USING (employee_key)
    LEFT JOIN outcomes AS a USING (employee_key)
    LEFT JOIN trained  AS t USING (employee_key)
    GROUP BY m.segment_type, m.segment
),
prompt_quality AS (
    SELECT m.segment_type, m.segment,
           avg(p.score_pct)               AS prompt_quality_score,
           count(DISTINCT p.employee_key) AS prompt_people
    FROM members AS m
    JOIN prompts AS p USING (employee_key)
    GROUP BY m.segment_type, m.segment
),
use_cases AS (              -- self-developed use cases submitted in q, any status
    SELECT department
    FROM staging.use_cases
    WHERE self_developed AND submitted_on BETWEEN $quarter_start AND $quarter_end
),
new_use_cases AS (
    SELECT 'company' AS segment_type, 'all' AS segment, count(*) AS new_use_cases FROM use_cases
    UNION ALL
    SELECT 'department', department, count(*) FROM use_cases WHERE department IS NOT NULL GROUP BY department
)
SELECT
    $quarter                                                  AS quarter,
    s.segment_type,
    s.segment,
    s.headcount                                               AS group_size,
    false                                                     AS suppressed,
    NULL                                                      AS suppression_reason,
    s.headcount,
    s.assessed_employees,
    CASE WHEN s.assessed_employees >= $min_group_size THEN s.mean_skill END AS skill_score,
    CASE WHEN s.assessed_employees >= $min_group_size
         THEN s.proficient / s.assessed_employees END         AS proficient_rate,
    coalesce(pq.prompt_people, 0)                             AS prompt_assessed_employees,
    CASE WHEN coalesce(pq.prompt_people, 0) >= $min_group_size
         THEN pq.prompt_quality_score END                     AS prompt_quality_score,
    s.success_contributors,
    CASE WHEN s.success_contributors >= $min_group_size
         THEN s.successes / nullif(s.successes + s.failures, 0) END AS success_rate,
    CASE WHEN s.segment_type <> 'target_group'
         THEN coalesce(u.new_use_cases, 0) END                AS new_use_cases,
    CASE WHEN s.segment_type <> 'target_group'
         THEN coalesce(u.new_use_cases, 0) / s.headcount * 100 END AS new_use_cases_per_100,
    s.trained / s.headcount                                   AS trained_share,
    s.assessed_ever,
    s.assessed_ever / s.headcount                             AS assessment_coverage,
    CASE WHEN s.assessed_ever >= $min_group_size THEN s.mean_skill_to_date END AS skill_score_to_date,
    CASE WHEN s.assessed_ever >= $min_group_size
         THEN s.proficient_to_date / s.assessed_ever END      AS proficient_rate_to_date
FROM per_person AS s
LEFT JOIN prompt_quality AS pq USING (segment_type, segment)
LEFT JOIN new_use_cases  AS u  USING (segment_type, segment)
