-- The report, competence table: every segment in $q, with skill score and trained share of the
-- previous quarter $p.
SELECT c.segment_type, c.segment, c.suppressed, c.suppression_reason, c.headcount, c.assessed_employees,
       c.skill_score, c.proficient_rate, c.trained_share, c.success_rate, c.new_use_cases,
       p.skill_score AS prev_skill_score, p.trained_share AS prev_trained_share,
       c.assessed_ever, c.assessment_coverage, c.skill_score_to_date, c.proficient_rate_to_date,
       p.skill_score_to_date AS prev_skill_score_to_date, c.prompt_quality_score
FROM marts.kpi_competence c LEFT JOIN marts.kpi_competence p
  ON p.quarter = $p AND p.segment_type = c.segment_type AND p.segment = c.segment
WHERE c.quarter = $q
ORDER BY CASE c.segment_type WHEN 'company' THEN 0 WHEN 'department' THEN 1 WHEN 'target_group' THEN 2 ELSE 3 END,
         CASE c.segment WHEN 'executive' THEN 1 WHEN 'manager' THEN 2 WHEN 'champion' THEN 3
                        WHEN 'user' THEN 4 ELSE 5 END,
         c.segment
