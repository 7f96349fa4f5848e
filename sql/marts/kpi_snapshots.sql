-- Versioned figures of closed quarters (OUTPUTS.md "Snapshots"): a version is never overwritten.
CREATE TABLE IF NOT EXISTS marts.kpi_snapshots (
    snapshot_id     VARCHAR NOT NULL,    -- '<quarter>/v<version>'
    quarter         VARCHAR NOT NULL,
    kpi_table       VARCHAR NOT NULL,    -- kpi_usage | kpi_competence | kpi_business | kpi_culture
    segment_type    VARCHAR,             -- company | department | target_group | tool (business: NULL)
    segment         VARCHAR,
    construct       VARCHAR,             -- culture only
    process         VARCHAR,             -- business only
    department      VARCHAR,             -- business only
    metric          VARCHAR NOT NULL,
    value           DOUBLE,              -- NULL when suppressed or undefined
    computed_at     TIMESTAMP NOT NULL,
    inputs_sha256   VARCHAR NOT NULL,
    config_sha256   VARCHAR NOT NULL,
    version         INTEGER NOT NULL
);
