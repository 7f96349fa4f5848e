-- Survey responses with the segment they count in: when respondent_key is a known employee
-- identity, the department and target group of that employee's current HR row; otherwise the
-- self-reported values (NULL when the export has none).
CREATE OR REPLACE VIEW intermediate.survey_respondents AS
SELECT
    r.file,
    r.response_id,
    r.submitted_at,
    CAST(r.submitted_at AS DATE) AS submitted_on,
    e.employee_key,
    CASE WHEN e.employee_key IS NOT NULL THEN e.department   ELSE r.department   END AS department,
    CASE WHEN e.employee_key IS NOT NULL THEN e.target_group ELSE r.target_group END AS target_group
FROM staging.survey_responses AS r
LEFT JOIN staging.employee_identities AS i ON i.identity_key = r.respondent_key
LEFT JOIN staging.employees AS e ON e.employee_key = i.employee_key;
