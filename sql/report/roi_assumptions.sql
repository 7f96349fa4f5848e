-- The report: every assumption behind the ROI, in display order. The empty first SELECT supplies
-- sort_order as NULL for a warehouse built before the column existed (then ordered by name).
SELECT name, value, value_text, unit, source, explanation
FROM ((SELECT NULL::INTEGER AS sort_order WHERE false) UNION ALL BY NAME SELECT * FROM marts.roi_assumptions) AS stored
ORDER BY sort_order NULLS LAST, name
