-- The report, learning gain: every segment of marts.kpi_learning in $q (docs/metrics.md §11); a
-- suppressed row carries its reason and no figure.
SELECT segment_type, segment, suppressed, suppression_reason, people_with_pre_and_post, pre_mean, post_mean,
       gain, gain_ci_low, gain_ci_high, proficient_pre, proficient_post, reassessed_6m, retained_6m
FROM marts.kpi_learning
WHERE quarter = $q
ORDER BY CASE segment_type WHEN 'company' THEN 0 WHEN 'department' THEN 1 ELSE 2 END,
         CASE segment WHEN 'executive' THEN 1 WHEN 'manager' THEN 2 WHEN 'champion' THEN 3
                      WHEN 'user' THEN 4 ELSE 5 END,
         segment
