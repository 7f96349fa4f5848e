-- marts.kpi_culture rows of ONE survey wave (docs/metrics.md §4): the wave is the quarter of
-- submitted_at. Before suppression; the changes against the previous wave and against the
-- baseline wave, and their Newcombe intervals, are filled in by kpi.marts.build_quarter.
-- Parameters: $quarter, $quarter_start, $quarter_end, $scale_max, $favorable_min.
-- A response counts in the department / target group of its respondent's HR row when the
-- respondent is a known employee identity, else in the self-reported one, else in 'unknown'.
WITH responses AS (
    SELECT * FROM intermediate.survey_respondents
    WHERE submitted_on BETWEEN $quarter_start AND $quarter_end
),
answers AS (                -- points after reverse-scoring: scale_max + 1 - x
    SELECT r.file, r.response_id, r.department, r.target_group, a.construct,
           CASE WHEN a.reverse THEN $scale_max + 1 - a.answer_points ELSE a.answer_points END AS points
    FROM responses AS r
    JOIN staging.survey_answers AS a USING (file, response_id)
),
per_respondent AS (         -- a respondent of a construct answered >= 1 of its items
    SELECT file, response_id, department, target_group, construct,
           avg(points)                                      AS mean_points,
           count(*)                                         AS answered,
           count(*) FILTER (WHERE points >= $favorable_min) AS favorable
    FROM answers
    GROUP BY file, response_id, department, target_group, construct
),
members AS (
    SELECT construct, 'company' AS segment_type, 'all' AS segment, mean_points, answered, favorable FROM per_respondent
    UNION ALL
    SELECT construct, 'department', coalesce(department, 'unknown'), mean_points, answered, favorable FROM per_respondent
    UNION ALL
    SELECT construct, 'target_group', coalesce(target_group, 'unknown'), mean_points, answered, favorable FROM per_respondent
),
segments AS (
    SELECT construct, segment_type, segment,
           count(*)                        AS responses,
           avg(mean_points)                AS mean_score,
           sum(favorable) / sum(answered)  AS favorability
    FROM members
    GROUP BY construct, segment_type, segment
),
largest_file AS (           -- response rows of the wave's largest survey file
    SELECT max(rows_in_file) AS responses
    FROM (SELECT file, count(*) AS rows_in_file FROM responses GROUP BY file) AS per_file
),
headcount AS (
    SELECT count(*) AS headcount FROM intermediate.employment_in($quarter_start, $quarter_end)
)
SELECT
    $quarter              AS quarter,
    s.construct,
    s.segment_type,
    s.segment,
    s.responses           AS group_size,
    false                 AS suppressed,
    NULL                  AS suppression_reason,
    s.responses,
    s.mean_score,
    s.favorability,
    CASE WHEN s.segment_type = 'company'
         THEN f.responses / nullif(h.headcount, 0) END AS response_rate,
    NULL                  AS mean_score_change,
    NULL                  AS favorability_change,
    NULL                  AS favorability_change_low,
    NULL                  AS favorability_change_high,
    NULL                  AS baseline_wave,
    NULL                  AS favorability_vs_baseline,
    NULL                  AS favorability_vs_baseline_low,
    NULL                  AS favorability_vs_baseline_high
FROM segments AS s
CROSS JOIN largest_file AS f
CROSS JOIN headcount AS h
