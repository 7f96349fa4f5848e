-- The report, ROI: the tornado (largest swing first), then the scenarios. The empty first SELECT
-- supplies sort_order as NULL for a warehouse built before the column existed.
SELECT assumption, "case", roi_pct, npv, swing
FROM ((SELECT NULL::INTEGER AS sort_order WHERE false) UNION ALL BY NAME SELECT * FROM marts.roi_sensitivity) AS stored
ORDER BY sort_order ASC NULLS LAST, swing DESC NULLS LAST
