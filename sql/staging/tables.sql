-- Staging tables written by ingest (kpi/ingest). Identifiers are pseudonyms (kpi/privacy.py).
CREATE SCHEMA IF NOT EXISTS staging;

CREATE TABLE IF NOT EXISTS staging.employees (
    employee_key     VARCHAR PRIMARY KEY,
    department       VARCHAR NOT NULL,
    target_group     VARCHAR NOT NULL,
    hire_date        DATE NOT NULL,
    exit_date        DATE,
    fte              DOUBLE NOT NULL,
    hourly_cost_eur  DOUBLE NOT NULL,     -- the row's value, else the config rate of its target group
    hourly_cost_from_config BOOLEAN NOT NULL
);

-- Every identifier of an employee (employee id, e-mail, GitHub login) as a pseudonym.
CREATE TABLE IF NOT EXISTS staging.employee_identities (
    identity_key  VARCHAR PRIMARY KEY,
    employee_key  VARCHAR NOT NULL,
    kind          VARCHAR NOT NULL         -- employee_id | email | github_login
);

CREATE TABLE IF NOT EXISTS staging.trainings (
    employee_key  VARCHAR NOT NULL,
    course_id     VARCHAR NOT NULL,
    format        VARCHAR NOT NULL,
    started_on    DATE NOT NULL,
    completed_on  DATE,
    status        VARCHAR NOT NULL,
    hours         DOUBLE NOT NULL
);

CREATE TABLE IF NOT EXISTS staging.assessments (
    employee_key  VARCHAR NOT NULL,
    assessed_on   DATE NOT NULL,
    instrument    VARCHAR NOT NULL,
    score         DOUBLE NOT NULL,
    max_score     DOUBLE NOT NULL
);

CREATE TABLE IF NOT EXISTS staging.costs (
    booked_on    DATE NOT NULL,
    category     VARCHAR NOT NULL,
    amount_eur   DOUBLE NOT NULL,
    description  VARCHAR,
    department   VARCHAR
);

CREATE TABLE IF NOT EXISTS staging.process_metrics (
    month             DATE NOT NULL,        -- first day of the month
    process           VARCHAR NOT NULL,
    department        VARCHAR NOT NULL,
    cases             BIGINT NOT NULL,
    handling_minutes  DOUBLE NOT NULL,
    errors            BIGINT,
    csat              DOUBLE
);

CREATE TABLE IF NOT EXISTS staging.use_cases (
    use_case_id                VARCHAR NOT NULL,
    title                      VARCHAR,
    department                 VARCHAR,
    submitted_on               DATE NOT NULL,
    status                     VARCHAR NOT NULL,
    self_developed             BOOLEAN NOT NULL,
    est_hours_saved_per_month  DOUBLE
);

-- Tool usage, accumulated over all usage files ever ingested (one row per canonical activity row).
CREATE TABLE IF NOT EXISTS staging.usage_activity (
    file           VARCHAR NOT NULL,
    row_number     BIGINT NOT NULL,
    format         VARCHAR NOT NULL,
    day            DATE NOT NULL,           -- company-local
    event_time     TIMESTAMP,               -- company-local, when the source has a time
    user_key       VARCHAR NOT NULL,        -- pseudonym of the identifier as exported
    user_concealed BOOLEAN NOT NULL,        -- M365 concealed name (32-hex hash): cannot be matched
    tool           VARCHAR NOT NULL,
    action         VARCHAR,
    interactions   BIGINT NOT NULL,
    successes      BIGINT NOT NULL,
    failures       BIGINT NOT NULL,
    natural_key    VARCHAR NOT NULL,        -- pseudonymised; equal keys are the same activity
    cadence        VARCHAR,                 -- ChatGPT: weekly | monthly
    period_start   DATE,
    period_end     DATE
);

-- Survey answers, accumulated: one row per answered item (points after reverse-scoring).
CREATE TABLE IF NOT EXISTS staging.survey_responses (
    file          VARCHAR NOT NULL,
    response_id   VARCHAR NOT NULL,
    submitted_at  TIMESTAMP NOT NULL,
    department    VARCHAR,
    target_group  VARCHAR,
    respondent_key VARCHAR                  -- pseudonym when the export has an identity column
);

CREATE TABLE IF NOT EXISTS staging.survey_answers (
    file         VARCHAR NOT NULL,
    response_id  VARCHAR NOT NULL,
    item         VARCHAR NOT NULL,
    construct    VARCHAR NOT NULL,
    reverse      BOOLEAN NOT NULL,
    answer_points INTEGER NOT NULL,         -- as answered (1..scale_max)
    points       INTEGER NOT NULL           -- after reverse-scoring
);
