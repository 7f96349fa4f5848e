-- The report: every suppressed row of the KPI marts (names only, never a figure). Chart captions
-- name the hidden segments; restatements leave out changes of rows that are suppressed now.
SELECT 'kpi_usage' AS source, quarter, segment_type, segment, NULL AS construct, suppression_reason
FROM marts.kpi_usage WHERE suppressed
UNION ALL
SELECT 'kpi_competence', quarter, segment_type, segment, NULL, suppression_reason
FROM marts.kpi_competence WHERE suppressed
UNION ALL
SELECT 'kpi_culture', quarter, segment_type, segment, construct, suppression_reason
FROM marts.kpi_culture WHERE suppressed
ORDER BY source, segment_type, segment, construct, quarter
