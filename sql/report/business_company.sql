-- The report, business: hours and savings of all processes together per quarter up to $q.
SELECT quarter, hours_saved, time_savings_eur, quality_savings_eur,
       estimated_hours_saved, estimated_savings_eur
FROM marts.kpi_business WHERE process = 'all' AND department = 'all' AND quarter <= $q ORDER BY quarter
