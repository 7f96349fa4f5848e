-- marts.kpi_cohorts rows of ONE quarter (docs/metrics.md §13), before suppression: usage and skill
-- by months since each person's first completed training, over every month up to the quarter's
-- end (the curve to date; company rows only).
-- Parameters: $quarter, $quarter_end, $min_group_size (the skill of fewer than k assessed is NULL).
WITH firsts AS (            -- each person's first completed training, completed by the end of q
    SELECT employee_key, min(completed_on) AS trained_on
    FROM staging.trainings
    WHERE lower(trim(status)) = 'completed' AND completed_on <= $quarter_end
    GROUP BY employee_key
),
months AS (                -- every calendar month from the first training's to q's
    SELECT unnest(generate_series(min(date_trunc('month', trained_on)), date_trunc('month', $quarter_end::DATE),
                                  INTERVAL 1 MONTH))::DATE AS month
    FROM firsts
),
person_months AS (          -- each person's months from their training's on, while employed in it
    SELECT
        f.employee_key,
        m.month,
        datediff('month', date_trunc('month', f.trained_on), m.month) AS months_since_training,
        datediff('month', m.month, $quarter_end)                       AS months_back
    FROM firsts AS f
    JOIN staging.employees AS e USING (employee_key)
    JOIN months AS m ON m.month >= date_trunc('month', f.trained_on)
    WHERE e.hire_date <= last_day(m.month) AND (e.exit_date IS NULL OR e.exit_date >= m.month)
),
-- The months with a usage day, as bits: a row per person and span of 120 months back from q's
-- month (bit i of span s: the month i + 120 s months before q's). A few groups per person
-- aggregate ~4x faster than DISTINCT person and month (about 1 M groups at 50,000 employees).
active AS (
    SELECT
        employee_key,
        datediff('month', day, $quarter_end) // 120                       AS span,
        bit_or(1::HUGEINT << (datediff('month', day, $quarter_end) % 120)) AS months
    FROM intermediate.usage_activity
    WHERE day <= $quarter_end
    GROUP BY employee_key, span
),
skill AS (                  -- each person's latest ai_literacy result of the month
    SELECT employee_key, date_trunc('month', assessed_on)::DATE AS month,
           arg_max(score * 100.0 / max_score, assessed_on) AS score_pct
    FROM staging.assessments
    WHERE instrument = 'ai_literacy' AND assessed_on <= $quarter_end
    GROUP BY employee_key, date_trunc('month', assessed_on)
),
cells AS (
    SELECT
        pm.months_since_training,
        count(*)                  AS people,
        count(a.employee_key)     AS active_users,
        count(s.employee_key)     AS assessed_people,
        avg(s.score_pct)          AS mean_skill
    FROM person_months AS pm
    LEFT JOIN active AS a
        ON a.employee_key = pm.employee_key
       AND a.span = pm.months_back // 120
       AND (a.months >> (pm.months_back % 120)) & 1 = 1
    LEFT JOIN skill AS s ON s.employee_key = pm.employee_key AND s.month = pm.month
    GROUP BY pm.months_since_training
)
SELECT
    $quarter                                                                AS quarter,
    'company'                                                               AS segment_type,
    'all'                                                                   AS segment,
    months_since_training,
    people                                                                  AS group_size,
    false                                                                   AS suppressed,
    NULL                                                                    AS suppression_reason,
    people,
    active_users,
    active_users / people                                                   AS active_user_rate,
    assessed_people,
    CASE WHEN assessed_people >= $min_group_size THEN mean_skill END        AS skill_score
FROM cells
