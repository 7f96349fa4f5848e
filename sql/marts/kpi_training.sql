-- marts.kpi_training rows of ONE quarter (docs/metrics.md §12), before suppression: training
-- activity, transfer into use and course feedback per training format, for the company and each
-- department (the HR file's department of the person).
-- Parameters: $quarter, $quarter_start, $quarter_end, $transfer_min_active_weeks, $positive_min
-- (feedback.positive_min), $min_group_size (a rate over fewer than k contributors is NULL).
WITH people AS (
    SELECT employee_key, department, exit_date FROM staging.employees
),
enrolments AS (             -- training rows started in q
    SELECT t.employee_key, t.format, t.hours,
           lower(trim(t.status)) = 'completed' AND t.completed_on <= $quarter_end AS completed,
           lower(trim(t.status)) = 'dropped'                                      AS dropped
    FROM staging.trainings AS t
    WHERE t.started_on BETWEEN $quarter_start AND $quarter_end
),
windows AS (                -- completions whose weeks 5-12 (days 29-84 after) end in q; the first per person and format
    SELECT employee_key, format, min(completed_on) AS completed_on
    FROM staging.trainings
    WHERE lower(trim(status)) = 'completed'
      AND completed_on + 84 BETWEEN $quarter_start AND $quarter_end
    GROUP BY employee_key, format
),
transfer AS (               -- employed to the window's end; regular in it: active in >= N of its 8 weeks
    SELECT
        w.employee_key,
        w.format,
        count(DISTINCT (a.day - w.completed_on + 6) // 7) >= $transfer_min_active_weeks AS transferred
    FROM windows AS w
    JOIN people AS p ON p.employee_key = w.employee_key
        AND (p.exit_date IS NULL OR p.exit_date >= w.completed_on + 84)
    LEFT JOIN intermediate.usage_activity AS a
        ON a.employee_key = w.employee_key AND a.day BETWEEN w.completed_on + 29 AND w.completed_on + 84
    GROUP BY w.employee_key, w.format
),
course_format AS (          -- the format of each person's course
    SELECT DISTINCT employee_key, course_id, format FROM staging.trainings
),
feedback AS (               -- course feedback given in q
    SELECT f.employee_key, c.format, f.rating >= $positive_min AS positive, f.would_recommend
    FROM staging.course_feedback AS f
    JOIN course_format AS c USING (employee_key, course_id)
    WHERE f.given_on BETWEEN $quarter_start AND $quarter_end
),
facts AS (                  -- one row per person and fact, with the person's department
    SELECT 'enrolment' AS kind, e.employee_key, e.format, e.hours, e.completed, e.dropped,
           NULL::BOOLEAN AS transferred, NULL::BOOLEAN AS positive, NULL::BOOLEAN AS would_recommend
    FROM enrolments AS e
    UNION ALL
    SELECT 'transfer', employee_key, format, NULL, NULL, NULL, transferred, NULL, NULL FROM transfer
    UNION ALL
    SELECT 'feedback', employee_key, format, NULL, NULL, NULL, NULL, positive, would_recommend FROM feedback
),
members AS (
    SELECT 'company' AS segment_type, 'all' AS segment, f.* FROM facts AS f
    UNION ALL
    SELECT 'department', p.department, f.* FROM facts AS f JOIN people AS p USING (employee_key)
),
segments AS (
    SELECT
        segment_type,
        segment,
        format,
        count(DISTINCT employee_key)                                           AS people,
        count(DISTINCT employee_key) FILTER (WHERE kind = 'enrolment')         AS participants,
        count(*) FILTER (WHERE kind = 'enrolment')                             AS enrolments,
        coalesce(sum(hours) FILTER (WHERE kind = 'enrolment'), 0)              AS hours,
        count(*) FILTER (WHERE kind = 'enrolment' AND completed)               AS completed,
        count(*) FILTER (WHERE kind = 'enrolment' AND dropped)                 AS dropped,
        count(*) FILTER (WHERE kind = 'transfer')                              AS transfer_people,
        count(*) FILTER (WHERE kind = 'transfer' AND transferred)              AS transferred,
        count(*) FILTER (WHERE kind = 'feedback')                              AS feedback_responses,
        count(*) FILTER (WHERE kind = 'feedback' AND positive)                 AS positive,
        count(would_recommend) FILTER (WHERE kind = 'feedback')                AS recommend_responses,
        count(*) FILTER (WHERE kind = 'feedback' AND would_recommend)          AS recommend
    FROM members
    GROUP BY segment_type, segment, format
)
SELECT
    $quarter                                                                   AS quarter,
    segment_type,
    segment,
    format,
    people                                                                     AS group_size,
    false                                                                      AS suppressed,
    NULL                                                                       AS suppression_reason,
    participants,
    enrolments,
    hours,
    CASE WHEN participants >= $min_group_size THEN completed / enrolments END  AS completion_rate,
    CASE WHEN participants >= $min_group_size THEN dropped / enrolments END    AS dropout_rate,
    transfer_people,
    CASE WHEN transfer_people >= $min_group_size THEN transferred / transfer_people END AS transfer_rate,
    feedback_responses,
    CASE WHEN feedback_responses >= $min_group_size THEN positive / feedback_responses END AS positive_feedback_share,
    recommend_responses,
    CASE WHEN recommend_responses >= $min_group_size THEN recommend / recommend_responses END AS would_recommend_share
FROM segments
