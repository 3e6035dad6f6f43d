-- 0004: what the platform does about the data: commands to devices, alarms and cases,
-- data marks (标记), and the append-only audit log.

-- Commands sent to field devices (HJ 212-2017 §6.5: request -> 9011 -> data -> 9012).
CREATE TABLE hj212.command (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mn            text        NOT NULL,
    qn            text        NOT NULL,   -- identifies the interaction (§6.3.2)
    st            text        NOT NULL,
    cn            text        NOT NULL,
    cp            text        NOT NULL DEFAULT '',
    raw           bytea,                  -- the frame as sent
    requested_by  text        NOT NULL DEFAULT current_user,
    created_at    timestamptz NOT NULL DEFAULT now(),
    sent_at       timestamptz,
    state         text        NOT NULL DEFAULT 'queued' CHECK (state IN
                  ('queued', 'sent', 'accepted', 'refused', 'done', 'failed', 'timeout')),
    qn_rtn        text,                   -- 9011 QnRtn (1 = ready to execute)
    exe_rtn       text,                   -- 9012 ExeRtn (1 = success)
    finished_at   timestamptz,
    UNIQUE (mn, qn)
);

-- Every frame a device sent about a command: 9011, its data frames, 9012. The frame
-- itself is in hj212.frame (frame_id); this links it to the command.
CREATE TABLE hj212.command_reply (
    command_id  bigint      NOT NULL REFERENCES hj212.command (id),
    received_at timestamptz NOT NULL,
    frame_id    bigint      NOT NULL,
    cn          text        NOT NULL,
    qn          text,
    detail      text,
    PRIMARY KEY (command_id, frame_id)
);

-- A case (工单/案件): an outage or exceedance followed up until closed, with deadlines
-- (regulations.md §6: report within 12-24 h, restore within 12 h .. 5 working days).
CREATE TABLE hj212.case (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mn          text        NOT NULL,
    kind        text        NOT NULL,
    state       text        NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
    opened_at   timestamptz NOT NULL,
    report_due  timestamptz,
    restore_due timestamptz,
    closed_at   timestamptz,
    summary     text        NOT NULL DEFAULT ''
);
CREATE INDEX case_open ON hj212.case (mn) WHERE state = 'open';

-- An alarm raised by the rules engine (exceedance, outage, anomaly, low rate).
CREATE TABLE hj212.alarm (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mn          text        NOT NULL,
    pollutant   text,
    kind        text        NOT NULL,
    severity    text        NOT NULL DEFAULT 'warning'
                CHECK (severity IN ('info', 'warning', 'critical')),
    raised_at   timestamptz NOT NULL,
    data_time   timestamptz,            -- the data that triggered it
    value       double precision,
    threshold   double precision,
    detail      jsonb       NOT NULL DEFAULT '{}',
    cleared_at  timestamptz,
    case_id     bigint      REFERENCES hj212.case (id)
);
CREATE INDEX alarm_mn_time ON hj212.alarm (mn, raised_at DESC);

-- Data marks (标记, MEE 公告2022年第21号): a period of one station's data (all
-- pollutants when pollutant is NULL) declared e.g. shutdown (停运), maintenance (维护),
-- calibration (校准), fault (故障), force majeure (不可抗力) or manual values. A mark
-- never edits measurements; the reports and the rules apply it. Revoking is a new mark
-- row pointing at the old one (revokes), so the history stays.
CREATE TABLE hj212.data_mark (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mn          text        NOT NULL,
    pollutant   text,
    period      tstzrange   NOT NULL CHECK (NOT isempty(period)),
    category    text        NOT NULL,
    invalidates boolean     NOT NULL DEFAULT true,  -- excluded from exceedance judgment
    reason      text        NOT NULL DEFAULT '',
    source      text        NOT NULL DEFAULT 'manual'
                CHECK (source IN ('manual', 'device', 'platform')),
    marked_by   text        NOT NULL DEFAULT current_user,
    marked_at   timestamptz NOT NULL DEFAULT now(),
    revokes     bigint      REFERENCES hj212.data_mark (id)
);
CREATE INDEX data_mark_mn_period ON hj212.data_mark (mn, lower(period));

-- The audit log: who did what, append-only (regulations.md §6.4: ledgers >= 5 years,
-- write-once). A hypertable so that retention can drop whole old chunks (drop_chunks
-- bypasses row triggers by design); row UPDATE, DELETE and TRUNCATE are refused.
-- 30-day chunks: a few thousand rows a day at most.
CREATE TABLE hj212.audit_log (
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    id          bigint      GENERATED ALWAYS AS IDENTITY,
    actor       text        NOT NULL DEFAULT current_user,
    action      text        NOT NULL,
    object      text        NOT NULL,
    mn          text,
    detail      jsonb       NOT NULL DEFAULT '{}'
);
SELECT create_hypertable('hj212.audit_log', by_range('at', INTERVAL '30 days'));
CREATE INDEX audit_log_object ON hj212.audit_log (object, at DESC);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON hj212.audit_log
    FOR EACH ROW EXECUTE FUNCTION hj212.refuse_change('audit_log');
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON hj212.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION hj212.refuse_change('audit_log');

-- Registry changes and marks are audited by the database itself, whoever makes them.
CREATE FUNCTION hj212.audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    row_data jsonb := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
BEGIN
    INSERT INTO hj212.audit_log (action, object, mn, detail)
    VALUES (lower(TG_OP), TG_TABLE_NAME, row_data ->> 'mn', row_data);
    RETURN NULL;
END;
$$;
CREATE TRIGGER station_audit AFTER INSERT OR UPDATE OR DELETE ON hj212.station
    FOR EACH ROW EXECUTE FUNCTION hj212.audit_row();
CREATE TRIGGER station_pollutant_audit AFTER INSERT OR UPDATE OR DELETE
    ON hj212.station_pollutant FOR EACH ROW EXECUTE FUNCTION hj212.audit_row();
CREATE TRIGGER data_mark_audit AFTER INSERT OR UPDATE OR DELETE ON hj212.data_mark
    FOR EACH ROW EXECUTE FUNCTION hj212.audit_row();
CREATE TRIGGER command_audit AFTER INSERT ON hj212.command
    FOR EACH ROW EXECUTE FUNCTION hj212.audit_row();
