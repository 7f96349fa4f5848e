-- The yearly report: costs by ledger category and benefits over the calendar months $first to $last
-- (marts.roi_monthly; programme-wide, the months of the year that the ROI series holds).
SELECT count(*) AS months,
       min(m) AS first_m,
       max(m) AS last_m,
       coalesce(sum(cost_external_training), 0) AS external_training,
       coalesce(sum(cost_internal_time), 0) AS internal_time,
       coalesce(sum(cost_licenses), 0) AS licenses,
       coalesce(sum(cost_materials), 0) AS materials,
       coalesce(sum(cost_other), 0) AS other,
       coalesce(sum(cost_participant_time), 0) AS participant_time,
       coalesce(sum(costs), 0) AS costs,
       coalesce(sum(gross_benefits), 0) AS gross_benefits,
       coalesce(sum(benefits), 0) AS benefits
FROM marts.roi_monthly
WHERE month BETWEEN $first AND $last
