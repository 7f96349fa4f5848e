-- The report, training by format: the company's rows of marts.kpi_training in $q (docs/metrics.md
-- §12); a suppressed row carries its reason and no figure.
SELECT format, suppressed, suppression_reason, participants, enrolments, hours, completion_rate, dropout_rate,
       transfer_people, transfer_rate, feedback_responses, positive_feedback_share
FROM marts.kpi_training
WHERE quarter = $q AND segment_type = 'company'
ORDER BY format
