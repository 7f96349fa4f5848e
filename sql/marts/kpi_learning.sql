-- marts.kpi_learning rows of ONE quarter (docs/metrics.md §11), before suppression: the learning
-- gain (Kirkpatrick level 2) of everyone whose first training was assessed before and after it,
-- counted to date (post-training assessment on or before the quarter's last day).
-- Parameters: $quarter, $quarter_end, $proficient_score_pct, $min_group_size, $t975 (the 97.5 %
-- quantile of Student's t for 1, 2, ... degrees of freedom; the normal 1.96 beyond the list).
WITH firsts AS (            -- each person's first completed training, completed by the end of q
    SELECT employee_key, started_on, completed_on
    FROM (
        SELECT employee_key, started_on, completed_on,
               row_number() OVER (PARTITION BY employee_key ORDER BY completed_on, started_on, course_id) AS n
        FROM staging.trainings
        WHERE lower(trim(status)) = 'completed' AND completed_on <= $quarter_end
    ) AS ranked
    WHERE n = 1
),
literacy AS (
    SELECT employee_key, assessed_on, score * 100.0 / max_score AS score_pct
    FROM staging.assessments
    WHERE instrument = 'ai_literacy' AND assessed_on <= $quarter_end
),
pre AS (                    -- the last assessment before the first training began
    SELECT f.employee_key, arg_max(l.score_pct, l.assessed_on) AS pre_score
    FROM firsts AS f JOIN literacy AS l ON l.employee_key = f.employee_key AND l.assessed_on < f.started_on
    GROUP BY f.employee_key
),
post AS (                   -- the first assessment after it was completed
    SELECT f.employee_key, arg_min(l.score_pct, l.assessed_on) AS post_score, min(l.assessed_on) AS post_on
    FROM firsts AS f JOIN literacy AS l ON l.employee_key = f.employee_key AND l.assessed_on > f.completed_on
    GROUP BY f.employee_key
),
later AS (                  -- the first re-assessment at least six months after the training
    SELECT f.employee_key, arg_min(l.score_pct, l.assessed_on) AS later_score
    FROM firsts AS f
    JOIN post AS p ON p.employee_key = f.employee_key
    JOIN literacy AS l ON l.employee_key = f.employee_key AND l.assessed_on > p.post_on
        AND l.assessed_on >= f.completed_on + INTERVAL 6 MONTH
    GROUP BY f.employee_key
),
pairs AS (
    SELECT
        p.employee_key,
        p.pre_score,
        q.post_score,
        q.post_score - p.pre_score AS gain,
        l.later_score
    FROM pre AS p
    JOIN post AS q USING (employee_key)
    LEFT JOIN later AS l USING (employee_key)
),
members AS (                -- each person once in the company, their department and target group
    SELECT 'company' AS segment_type, 'all' AS segment, p.*
    FROM pairs AS p
    UNION ALL
    SELECT 'department', e.department, p.*
    FROM pairs AS p JOIN staging.employees AS e USING (employee_key)
    UNION ALL
    SELECT 'target_group', e.target_group, p.*
    FROM pairs AS p JOIN staging.employees AS e USING (employee_key)
),
segments AS (
    SELECT
        segment_type,
        segment,
        count(*)                                                   AS people,
        avg(pre_score)                                             AS pre_mean,
        avg(post_score)                                            AS post_mean,
        avg(gain)                                                  AS gain,
        stddev_samp(gain)                                          AS gain_sd,
        count(*) FILTER (WHERE pre_score >= $proficient_score_pct)  AS proficient_pre,
        count(*) FILTER (WHERE post_score >= $proficient_score_pct) AS proficient_post,
        count(later_score)                                         AS reassessed,
        avg(later_score - pre_score) FILTER (WHERE later_score IS NOT NULL) AS later_gain,
        avg(gain) FILTER (WHERE later_score IS NOT NULL)           AS gain_of_reassessed
    FROM members
    GROUP BY segment_type, segment
)
SELECT
    $quarter                                                       AS quarter,
    segment_type,
    segment,
    people                                                         AS group_size,
    false                                                          AS suppressed,
    NULL                                                           AS suppression_reason,
    people                                                         AS people_with_pre_and_post,
    pre_mean,
    post_mean,
    gain,
    CASE WHEN people >= 2 THEN gain - coalesce($t975[people - 1], 1.959963984540054) * gain_sd / sqrt(people)
    END                                                            AS gain_ci_low,
    CASE WHEN people >= 2 THEN gain + coalesce($t975[people - 1], 1.959963984540054) * gain_sd / sqrt(people)
    END                                                            AS gain_ci_high,
    proficient_pre / people                                        AS proficient_pre,
    proficient_post / people                                       AS proficient_post,
    reassessed                                                     AS reassessed_6m,
    CASE WHEN reassessed >= $min_group_size AND gain_of_reassessed > 0
         THEN later_gain / gain_of_reassessed END                  AS retained_6m
FROM segments
