-- The report, culture matrix: favorability per segment and construct in wave $w.
SELECT segment_type, segment, construct, suppressed, suppression_reason, favorability, favorability_change,
       favorability_change_low, favorability_change_high
FROM marts.kpi_culture WHERE quarter = $w
ORDER BY CASE segment_type WHEN 'company' THEN 0 WHEN 'department' THEN 1 WHEN 'target_group' THEN 2 ELSE 3 END,
         CASE segment WHEN 'executive' THEN 1 WHEN 'manager' THEN 2 WHEN 'champion' THEN 3
                      WHEN 'user' THEN 4 ELSE 5 END,
         segment, construct
