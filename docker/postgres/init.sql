-- trainwatch schema for PostgreSQL. Run by the postgres container on first start (docker-entrypoint-initdb.d)
-- and by the job itself when a table is missing (every statement is idempotent). Rows are upserted, so a replay
-- or a restart from a checkpoint writes the same rows again instead of adding new ones.

-- One row per judged step (run_id, step); with --series-every N a long run keeps one step per N, and every step
-- that carries an alert. time: the trainer's event time, or when trainwatch judged the step if none was sent.
CREATE TABLE IF NOT EXISTS trainwatch_series (
    run_id         text             NOT NULL,
    step           bigint           NOT NULL,
    time           timestamptz      NOT NULL,
    actual_lr      double precision[],
    scheduled_lr   double precision[],
    loss           double precision,
    loss_mean      double precision,
    grad_norm      double precision,
    suggested_clip double precision,
    PRIMARY KEY (run_id, step)
);
CREATE INDEX IF NOT EXISTS trainwatch_series_time ON trainwatch_series (time);

-- One row per alert (alert_id = run/kind/onset step): the open, its update and its RESOLVED share the id, so the
-- row holds the alert's latest status. opened_time is kept from the first write. step and onset_step are optimizer
-- steps (0-based); display_step is step as the run's own logs number it (step + the run's step_base: HF's global_step).
CREATE TABLE IF NOT EXISTS trainwatch_alerts (
    alert_id    text        PRIMARY KEY,
    run_id      text        NOT NULL,
    kind        text        NOT NULL,
    severity    text        NOT NULL,
    status      text        NOT NULL,
    onset_step  bigint      NOT NULL,
    step        bigint      NOT NULL,
    display_step bigint     NOT NULL,
    opened_time timestamptz NOT NULL,
    time        timestamptz NOT NULL,
    message     text        NOT NULL,
    diagnosis   text,
    evidence    jsonb,
    suggestion  jsonb,
    incident_id text,
    occurrences integer
);
CREATE INDEX IF NOT EXISTS trainwatch_alerts_run ON trainwatch_alerts (run_id, onset_step);
-- A table made before display_step existed gets it: its alerts came from runs numbered from 0, so it is their step.
-- Checked first, so that a table that has it is not altered (ALTER TABLE needs the table's owner, the writer may not be).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'trainwatch_alerts'::regclass
                   AND attname = 'display_step' AND NOT attisdropped) THEN
        ALTER TABLE trainwatch_alerts ADD COLUMN IF NOT EXISTS display_step bigint;
        UPDATE trainwatch_alerts SET display_step = step;
        ALTER TABLE trainwatch_alerts ALTER COLUMN display_step SET NOT NULL;
    END IF;
    -- Incidents (alert format v1 incident_id, occurrences): an incident's row is its opening alert's (alert_id =
    -- incident_id), its updates and RESOLVED land there; an escalation has a row of its own with the incident's id.
    -- A table from before incidents gains them (null: each of its alerts was its own incident).
    IF NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'trainwatch_alerts'::regclass
                   AND attname = 'incident_id' AND NOT attisdropped) THEN
        ALTER TABLE trainwatch_alerts ADD COLUMN IF NOT EXISTS incident_id text;
        ALTER TABLE trainwatch_alerts ADD COLUMN IF NOT EXISTS occurrences integer;
    END IF;
END
$$;
CREATE INDEX IF NOT EXISTS trainwatch_alerts_incident ON trainwatch_alerts (incident_id);

-- Records the job could not accept, keyed by where they came from (topic-partition@offset or file:line).
CREATE TABLE IF NOT EXISTS trainwatch_dead_letters (
    source      text        PRIMARY KEY,
    time        timestamptz NOT NULL,
    field       text        NOT NULL,
    reason      text        NOT NULL,
    payload     text        NOT NULL
);

-- Notifications given up (refused by the receiver, or still failing past the retry horizon): the
-- notification output's dead letters. One row per target and notification (Idempotency-Key); the
-- alert as it would have been sent, so that it can be sent again by hand.
CREATE TABLE IF NOT EXISTS trainwatch_notifications_failed (
    target          text        NOT NULL,
    idempotency_key text        NOT NULL,
    alert_id        text        NOT NULL,
    run_id          text        NOT NULL,
    kind            text        NOT NULL,
    severity        text        NOT NULL,
    status          text        NOT NULL,
    attempts        integer     NOT NULL,
    last_status     integer     NOT NULL,
    reason          text        NOT NULL,
    time            timestamptz NOT NULL,
    alert           jsonb       NOT NULL,
    PRIMARY KEY (target, idempotency_key)
);
CREATE INDEX IF NOT EXISTS trainwatch_notifications_failed_run ON trainwatch_notifications_failed (run_id, time);

-- Grafana reads with its own role, which can only SELECT.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'trainwatch_grafana') THEN
        CREATE ROLE trainwatch_grafana LOGIN;
    END IF;
END
$$;
GRANT SELECT ON trainwatch_series, trainwatch_alerts, trainwatch_dead_letters, trainwatch_notifications_failed
    TO trainwatch_grafana;
