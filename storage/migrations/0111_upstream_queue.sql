-- 0111: forwarding upstream (issue 19, docs/forwarding.md §2-§4).
--
-- hj212.upstream mirrors the [[upstream]] tables of the configuration (written by the
-- gateway at start): which CNs and stations each one takes. The batched writer selects
-- against it in the transaction that stores the frames (storage/upstream_queue.py), so
-- a frame acknowledged to a station is always in the queue of every upstream that
-- takes it. A row leaves the queue only when that upstream's 9014 for it arrived.
CREATE TABLE hj212.upstream (
    name              text        PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9_.-]{1,40}$'),
    host              text        NOT NULL,
    port              integer     NOT NULL,
    version           text        NOT NULL,
    cns               text[]      NOT NULL,
    mns               text[],                 -- NULL: every station
    active            boolean     NOT NULL DEFAULT true,
    behind_alarm_s    double precision NOT NULL DEFAULT 3600,
    delivered         bigint      NOT NULL DEFAULT 0,
    failures          bigint      NOT NULL DEFAULT 0,
    last_delivered_at timestamptz,
    last_error        text,
    last_error_at     timestamptz,
    behind_since      timestamptz,             -- set while the backlog is older than the alarm
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE hj212.upstream_queue (
    upstream    text        NOT NULL REFERENCES hj212.upstream (name) ON DELETE CASCADE,
    frame_id    bigint      NOT NULL,
    mn          text        NOT NULL,
    received_at timestamptz NOT NULL,           -- the frame's: with frame_id, its key
    enqueued_at timestamptz NOT NULL DEFAULT now(),
    attempts    integer     NOT NULL DEFAULT 0,
    PRIMARY KEY (upstream, frame_id)
);
-- the sender reads a station's rows in frame order (frame ids follow the chain order)
CREATE INDEX upstream_queue_station ON hj212.upstream_queue (upstream, mn, frame_id);

-- Who sends a station's rows to an upstream: one holder at a time, so the order per
-- station holds across gateway processes; a lease that is not renewed runs out and
-- another process (or the same one restarted) takes the station over.
CREATE TABLE hj212.upstream_lease (
    upstream    text        NOT NULL REFERENCES hj212.upstream (name) ON DELETE CASCADE,
    mn          text        NOT NULL,
    holder      text        NOT NULL,
    until       timestamptz NOT NULL,
    PRIMARY KEY (upstream, mn)
);
