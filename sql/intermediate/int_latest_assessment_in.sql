-- Each employee's LATEST assessment of one instrument inside a period (both ends inclusive):
-- the row with the latest assessed_on; two results on that same day -> the higher one.
--   intermediate.latest_assessment_in($quarter_start, $quarter_end, 'ai_literacy')
CREATE OR REPLACE MACRO intermediate.latest_assessment_in(period_start, period_end, instrument_name) AS TABLE
SELECT employee_key, assessed_on, score, max_score, score_pct
FROM (
    SELECT
        employee_key,
        assessed_on,
        score,
        max_score,
        score * 100.0 / max_score AS score_pct,
        row_number() OVER (
            PARTITION BY employee_key
            ORDER BY assessed_on DESC, score / max_score DESC
        ) AS rank_latest
    FROM staging.assessments
    WHERE instrument = instrument_name
      AND assessed_on BETWEEN CAST(period_start AS DATE) AND CAST(period_end AS DATE)
) AS ranked
WHERE rank_latest = 1;
