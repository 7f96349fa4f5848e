-- Audit tables (OUTPUTS.md): what was ingested from which file, and every rejected row or cell.
CREATE SCHEMA IF NOT EXISTS audit;

CREATE TABLE IF NOT EXISTS audit.ingest_manifest (
    file              VARCHAR NOT NULL,   -- path relative to the inputs folder
    sha256            VARCHAR NOT NULL,
    format            VARCHAR NOT NULL,
    input_kind        VARCHAR NOT NULL,   -- 'state' (hr, finance, business: replaced) or 'accumulating' (usage, surveys)
    rows_read         BIGINT  NOT NULL,
    rows_loaded       BIGINT  NOT NULL,
    rows_quarantined  BIGINT  NOT NULL,
    rows_replaced     BIGINT  NOT NULL,
    cells_quarantined BIGINT  NOT NULL,
    chars_replaced    BIGINT  NOT NULL,
    ingested_at       TIMESTAMP NOT NULL,
    superseded        BOOLEAN NOT NULL DEFAULT false  -- a state file replaced by a newer version
);
-- State files: the settings (config, pseudonym key, reader version) the file was read with. The
-- same file with the same settings is not read again (kpi/ingest/state.py::state_settings_sha256).
ALTER TABLE audit.ingest_manifest ADD COLUMN IF NOT EXISTS settings_sha256 VARCHAR;

CREATE TABLE IF NOT EXISTS audit.quarantine (
    file       VARCHAR NOT NULL,
    row_number BIGINT,
    "column"   VARCHAR,
    value      VARCHAR,
    reason     VARCHAR NOT NULL,
    stage      VARCHAR NOT NULL,       -- 'ingest' or 'match'
    sha256     VARCHAR                 -- the file version the row came from
);
