-- marts.kpi_targets rows of ONE quarter (docs/metrics.md §9), read from the quarter's published
-- rows of kpi_usage, kpi_competence and kpi_culture (built before it).
-- Parameters: $quarter; the targets and benchmarks as parallel lists $t_metric, $t_segment_type,
-- $t_segment, $t_value, $t_by, $t_from (a benchmark's first quarter), $t_owner, $t_source; the figure names $usage_metrics,
-- $competence_metrics, $culture_metrics (from the catalogue); $amber_band (alerts.target_amber_band).
WITH goals AS (             -- a target is listed in the quarters up to its `by`; a benchmark from its first on
    SELECT
        unnest($t_metric)       AS metric_name,
        unnest($t_segment_type) AS segment_type,
        unnest($t_segment)      AS segment,
        unnest($t_value)        AS target,
        unnest($t_by)           AS due_quarter,
        unnest($t_from)         AS from_quarter,
        unnest($t_owner)        AS owner,
        unnest($t_source)       AS source
),
usage AS (
    UNPIVOT (
        SELECT segment_type, segment, COLUMNS(lambda c: list_contains($usage_metrics, c))::DOUBLE
        FROM marts.kpi_usage WHERE quarter = $quarter
    ) ON COLUMNS(* EXCLUDE (segment_type, segment)) INTO NAME metric_name VALUE actual
),
competence AS (
    UNPIVOT (
        SELECT segment_type, segment, COLUMNS(lambda c: list_contains($competence_metrics, c))::DOUBLE
        FROM marts.kpi_competence WHERE quarter = $quarter
    ) ON COLUMNS(* EXCLUDE (segment_type, segment)) INTO NAME metric_name VALUE actual
),
culture AS (
    UNPIVOT (
        SELECT construct, segment_type, segment, COLUMNS(lambda c: list_contains($culture_metrics, c))::DOUBLE
        FROM marts.kpi_culture WHERE quarter = $quarter
    ) ON COLUMNS(* EXCLUDE (construct, segment_type, segment)) INTO NAME figure VALUE actual
),
published AS (
    SELECT segment_type, segment, metric_name, actual FROM usage
    UNION ALL
    SELECT segment_type, segment, metric_name, actual FROM competence
    UNION ALL
    SELECT segment_type, segment, construct || '_' || figure, actual FROM culture
)
SELECT
    $quarter                                               AS quarter,
    g.metric_name,
    g.segment_type,
    g.segment,
    g.source,
    g.target,
    p.actual,
    CASE
        WHEN p.actual IS NULL THEN NULL
        WHEN p.actual >= g.target THEN 'green'
        WHEN p.actual >= g.target * (1 - $amber_band) THEN 'amber'
        ELSE 'red'
    END                                                    AS status,
    g.due_quarter,
    g.owner
FROM goals AS g
LEFT JOIN published AS p
    ON p.segment_type = g.segment_type AND p.segment = g.segment AND p.metric_name = g.metric_name
WHERE (g.due_quarter IS NULL OR g.due_quarter >= $quarter)
    AND (g.from_quarter IS NULL OR g.from_quarter <= $quarter)
