-- The report, ROI: the calendar month of each programme month m.
SELECT m, month FROM marts.roi_monthly
