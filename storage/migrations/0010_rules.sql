-- 0010: the rules engine's own tables: its state, its position in the data, daily
-- snapshots for replays; alarm lifecycle and dedupe; case timelines; webhook outbox;
-- and the two indexes it reads new data by.

-- Reading what arrived since the last step, across all stations, by receive time.
-- BRIN: frames and measurements are appended in (nearly) received_at order, so a block
-- range summary is tiny and nearly free to maintain on the insert path, unlike the
-- b-tree 0005 dropped from hj212.frame.
CREATE INDEX frame_received_brin ON hj212.frame USING brin (received_at)
    WITH (pages_per_range = 32);
CREATE INDEX measurement_received_brin ON hj212.measurement USING brin (received_at)
    WITH (pages_per_range = 32);

-- One row per station: rules.state.StationState as JSON (exact, integer microseconds).
CREATE TABLE hj212.rules_state (
    mn          text        PRIMARY KEY,
    state       jsonb       NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Where the engine is: every frame received up to watermark has been processed, and
-- origin is when it first started (hours of a station count from then at the earliest).
-- last_frame_id catches frames committed after the watermark passed their receive time
-- (a gateway's disk spool drained after a database outage).
CREATE TABLE hj212.rules_cursor (
    name          text        PRIMARY KEY,
    origin        timestamptz NOT NULL,
    watermark     timestamptz NOT NULL,
    last_frame_id bigint      NOT NULL DEFAULT 0,
    late_frames   bigint      NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- The whole state at each Beijing midnight (and at the very start): `hj212 rules replay`
-- starts from the last snapshot before --from and so recomputes exactly what ran live.
CREATE TABLE hj212.rules_snapshot (
    at          timestamptz NOT NULL,
    mn          text        NOT NULL,
    state       jsonb       NOT NULL,
    PRIMARY KEY (at, mn)
);

-- Alarms: the condition key (MN:condition:start) makes raising idempotent; the human
-- lifecycle open -> acknowledged -> resolved -> closed is separate from the condition
-- clearing by itself (cleared_at).
ALTER TABLE hj212.alarm
    ADD COLUMN key text,
    ADD COLUMN state text NOT NULL DEFAULT 'open'
        CHECK (state IN ('open', 'acknowledged', 'resolved', 'closed')),
    ADD COLUMN updated_at timestamptz;
CREATE UNIQUE INDEX alarm_key ON hj212.alarm (key);
CREATE INDEX alarm_state ON hj212.alarm (state, raised_at DESC) WHERE state <> 'closed';

-- Each lifecycle step: who, when, a note (the alarm row holds the current state).
CREATE TABLE hj212.alarm_action (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alarm_id    bigint      NOT NULL REFERENCES hj212.alarm (id),
    action      text        NOT NULL CHECK (action IN ('acknowledged', 'resolved', 'closed')),
    actor       text        NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    note        text        NOT NULL DEFAULT ''
);
CREATE INDEX alarm_action_alarm ON hj212.alarm_action (alarm_id, at);

-- Cases get their identity, the factor concerned, the medium that set the deadline, and
-- when the problem began (before it was detected); their timeline is case_event.
ALTER TABLE hj212.case
    ADD COLUMN key text,
    ADD COLUMN pollutant text,
    ADD COLUMN medium text,
    ADD COLUMN started_at timestamptz,
    ADD COLUMN cause text NOT NULL DEFAULT '';
CREATE UNIQUE INDEX case_key ON hj212.case (key);

CREATE TABLE hj212.case_event (
    case_id     bigint      NOT NULL REFERENCES hj212.case (id),
    at          timestamptz NOT NULL,
    kind        text        NOT NULL,   -- opened, *-reminder-*, *-overdue, manual-sampling-N, closed
    detail      jsonb       NOT NULL DEFAULT '{}',
    alarm_id    bigint      REFERENCES hj212.alarm (id),
    PRIMARY KEY (case_id, at, kind)
);

-- Webhook notifications, written in the same transaction as their alarm (an outbox):
-- delivered by HTTP POST, retried with backoff until delivered or given up.
CREATE TABLE hj212.notification (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alarm_id    bigint      NOT NULL REFERENCES hj212.alarm (id),
    url         text        NOT NULL,
    payload     jsonb       NOT NULL,
    state       text        NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts    integer     NOT NULL DEFAULT 0,
    next_at     timestamptz NOT NULL DEFAULT now(),
    last_error  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    UNIQUE (alarm_id, url)
);
CREATE INDEX notification_due ON hj212.notification (next_at) WHERE state = 'pending';
