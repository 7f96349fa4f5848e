-- Where we stand: the programme and its processes against the published ranges
-- (marts.roi_benchmarks, docs/metrics.md §10), in kpi/benchmarks.py's order.
SELECT benchmark, process, department, quarter, low, high, better, actual, status, source, basis
FROM marts.roi_benchmarks
ORDER BY sort_order
