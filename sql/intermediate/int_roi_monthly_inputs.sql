-- The inputs of the ROI series (docs/metrics.md §5), one row per programme month m = 1..N:
-- ledger costs by category, participant time, the monthly gross benefits built with the §3
-- business definitions applied to a month instead of a quarter, and the estimated
-- (interaction-based) benefits in their own column (they never enter the measured benefits).
--
-- A query over the temporary table roi_parts (sql/intermediate/int_roi_parts.sql, every
-- parameter of the series is bound there); kpi.roi.build_monthly_series() runs both and turns the
-- rows into Month objects. $has_minutes: benefits.time_saved_minutes_per_interaction is set
-- (else estimated_benefits is NULL). 0 rows when there is no month.
SELECT
    m,
    month,
    coalesce(sum(amount) FILTER (WHERE part = 'cost_external_training'), 0)::DOUBLE AS cost_external_training,
    coalesce(sum(amount) FILTER (WHERE part = 'cost_internal_time'), 0)::DOUBLE     AS cost_internal_time,
    coalesce(sum(amount) FILTER (WHERE part = 'cost_licenses'), 0)::DOUBLE          AS cost_licenses,
    coalesce(sum(amount) FILTER (WHERE part = 'cost_materials'), 0)::DOUBLE         AS cost_materials,
    coalesce(sum(amount) FILTER (WHERE part = 'cost_other'), 0)::DOUBLE             AS cost_other,
    coalesce(sum(amount) FILTER (WHERE part = 'cost_participant_time'), 0)::DOUBLE  AS cost_participant_time,
    coalesce(sum(amount) FILTER (WHERE part = 'time_savings_eur'), 0)::DOUBLE       AS time_savings_eur,
    coalesce(sum(amount) FILTER (WHERE part = 'quality_savings_eur'), 0)::DOUBLE    AS quality_savings_eur,
    CASE WHEN $has_minutes
         THEN coalesce(sum(amount) FILTER (WHERE part = 'estimated_benefits'), 0) END::DOUBLE AS estimated_benefits
FROM temp.roi_parts
GROUP BY m, month
ORDER BY m
