-- The report, process table: each process and department in $q against its baseline.
SELECT process, department, cases, minutes_per_case, baseline_minutes_per_case, time_reduction, hours_saved,
       error_rate, baseline_error_rate, errors_avoided, time_savings_eur, quality_savings_eur,
       cases_per_fte, baseline_cases_per_fte, cases_per_fte_growth, csat, baseline_csat, csat_change
FROM marts.kpi_business WHERE quarter = $q AND process <> 'all' ORDER BY process, department
