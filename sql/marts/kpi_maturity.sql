-- marts.kpi_maturity rows of ONE quarter (docs/metrics.md §7), before suppression.
-- Reads the quarter's published (already suppressed) rows of marts.kpi_usage, kpi_competence,
-- kpi_champions and kpi_culture, built before it (dimension 6), and staging.use_cases.
-- Parameters: $quarter, $quarter_start, $quarter_end and the thresholds under `maturity:`
-- ($l2_trained_share ... $l4_roi_pct); $roi_to_date_pct, the programme's ROI to date at the
-- quarter's end (kpi.marts.roi_to_date_pct, company-wide, used for every segment). A criterion
-- holds when its published value is at least its threshold; a withheld (NULL) value does not hold.
WITH usage AS (
    SELECT segment_type, segment, group_size, suppressed, suppression_reason,
           active_user_rate, regular_user_rate
    FROM marts.kpi_usage
    WHERE quarter = $quarter AND segment_type IN ('company', 'department')
),
competence AS (
    SELECT segment_type, segment, trained_share, proficient_rate
    FROM marts.kpi_competence
    WHERE quarter = $quarter
),
champions AS (
    SELECT segment_type, segment, champions
    FROM marts.kpi_champions
    WHERE quarter = $quarter
),
innovation AS (             -- the department's favorability on `innovation`, else the company's
    SELECT segment_type, segment, favorability
    FROM marts.kpi_culture
    WHERE quarter = $quarter AND construct = 'innovation' AND favorability IS NOT NULL
),
in_production AS (          -- self-developed use cases submitted by the end of q, now in production
    SELECT department
    FROM staging.use_cases
    WHERE self_developed AND lower(trim(status)) = 'production' AND submitted_on <= $quarter_end
),
production AS (
    SELECT 'company' AS segment_type, 'all' AS segment, count(*) AS production_use_cases FROM in_production
    UNION ALL
    SELECT 'department', department, count(*) FROM in_production WHERE department IS NOT NULL GROUP BY department
),
segments AS (
    SELECT
        u.segment_type,
        u.segment,
        u.group_size,
        u.suppressed,
        u.suppression_reason,
        u.active_user_rate,
        u.regular_user_rate,
        c.trained_share,
        c.proficient_rate,
        ch.champions,
        coalesce(i.favorability, ic.favorability)  AS innovation_favorability,
        coalesce(p.production_use_cases, 0)        AS production_use_cases
    FROM usage AS u
    LEFT JOIN competence AS c USING (segment_type, segment)
    LEFT JOIN champions AS ch USING (segment_type, segment)
    LEFT JOIN innovation AS i USING (segment_type, segment)
    LEFT JOIN innovation AS ic ON ic.segment_type = 'company'
    LEFT JOIN production AS p USING (segment_type, segment)
),
criteria AS (               -- one row per segment and criterion
    SELECT
        segment_type,
        segment,
        unnest([
            struct_pack(level := 2, pos := 1, name := 'trained_share', kind := 'fraction',
             value := trained_share, threshold := $l2_trained_share),
            struct_pack(level := 2, pos := 2, name := 'active_user_rate', kind := 'fraction',
             value := active_user_rate, threshold := $l2_active_user_rate),
            struct_pack(level := 3, pos := 3, name := 'regular_user_rate', kind := 'fraction',
             value := regular_user_rate, threshold := $l3_regular_user_rate),
            struct_pack(level := 3, pos := 4, name := 'trained_share', kind := 'fraction',
             value := trained_share, threshold := $l3_trained_share),
            struct_pack(level := 3, pos := 5, name := 'champions', kind := 'count',
             value := champions, threshold := $l3_champions),
            struct_pack(level := 3, pos := 6, name := 'production_use_cases', kind := 'count',
             value := production_use_cases, threshold := $l3_production_use_cases),
            struct_pack(level := 4, pos := 7, name := 'regular_user_rate', kind := 'fraction',
             value := regular_user_rate, threshold := $l4_regular_user_rate),
            struct_pack(level := 4, pos := 8, name := 'proficient_rate', kind := 'fraction',
             value := proficient_rate, threshold := $l4_proficient_rate),
            struct_pack(level := 4, pos := 9, name := 'innovation_favorability', kind := 'fraction',
             value := innovation_favorability, threshold := $l4_innovation_favorability),
            struct_pack(level := 4, pos := 10, name := 'production_use_cases', kind := 'count',
             value := production_use_cases, threshold := $l4_production_use_cases),
            struct_pack(level := 4, pos := 11, name := 'roi_to_date', kind := 'percent',
             value := $roi_to_date_pct, threshold := $l4_roi_pct)
        ]) AS c
    FROM segments
),
judged AS (
    SELECT
        segment_type,
        segment,
        c.level,
        c.pos,
        coalesce(c.value >= c.threshold, false) AS met,
        CASE
            WHEN c.value IS NULL THEN c.name || ' not published'
            WHEN c.kind = 'fraction' THEN c.name || ' ' || printf('%.1f %%', c.value * 100)
            WHEN c.kind = 'percent' THEN c.name || ' ' || printf('%.1f %%', c.value)
            ELSE c.name || ' ' || printf('%g', c.value)
        END                                      AS shown,
        CASE WHEN c.kind = 'fraction' THEN printf('%g %%', c.threshold * 100)
             WHEN c.kind = 'percent' THEN printf('%g %%', c.threshold)
             ELSE printf('%g', c.threshold) END  AS threshold_shown
    FROM criteria
),
levels AS (
    SELECT
        segment_type,
        segment,
        CASE
            WHEN NOT bool_and(met) FILTER (WHERE level = 2) THEN 1
            WHEN NOT bool_and(met) FILTER (WHERE level = 3) THEN 2
            WHEN NOT bool_and(met) FILTER (WHERE level = 4) THEN 3
            ELSE 4
        END                                                                    AS level
    FROM judged
    GROUP BY segment_type, segment
),
texts AS (
    SELECT
        j.segment_type,
        j.segment,
        l.level,
        string_agg(j.shown || ' ≥ ' || j.threshold_shown, '; ' ORDER BY j.pos)
            FILTER (WHERE j.met)                                               AS criteria_met,
        string_agg(j.shown || ' < ' || j.threshold_shown, '; ' ORDER BY j.pos)
            FILTER (WHERE NOT j.met AND j.level = l.level + 1)                 AS next_level_gaps
    FROM judged AS j
    JOIN levels AS l USING (segment_type, segment)
    GROUP BY j.segment_type, j.segment, l.level
)
SELECT
    $quarter                                                        AS quarter,
    s.segment_type,
    s.segment,
    s.group_size,
    s.suppressed,
    s.suppression_reason,
    CASE WHEN NOT s.suppressed THEN t.level END                     AS level,
    CASE WHEN NOT s.suppressed THEN
        ['AI novice', 'AI experimenter', 'AI user', 'AI champion'][t.level] END AS level_name,
    CASE WHEN NOT s.suppressed THEN t.criteria_met END              AS criteria_met,
    CASE WHEN NOT s.suppressed THEN t.next_level_gaps END           AS next_level_gaps
FROM segments AS s
JOIN texts AS t USING (segment_type, segment)
