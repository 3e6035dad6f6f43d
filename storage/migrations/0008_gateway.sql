-- 0008: what the gateway needs beyond the archive: unauthorized frames, per-station SM4
-- keys, frames that passed through the local spool, and measured clock drift.

-- A frame from an MN the registry does not know (when the gateway is told not to accept
-- those), or with a wrong password, is archived as 'unauthorized' and never answered.
ALTER TABLE hj212.frame DROP CONSTRAINT frame_status_check;
ALTER TABLE hj212.frame ADD CONSTRAINT frame_status_check
    CHECK (status IN ('ok', 'duplicate', 'rejected', 'garbage', 'unauthorized'));

-- HJ 212-2025 §6.4: SM4 key per data logger (32 hex digits), rotated every 90 days.
ALTER TABLE hj212.station ADD COLUMN sm4_key text CHECK (sm4_key ~ '^[0-9A-Fa-f]{32}$');

-- Frames acknowledged from the gateway's disk spool while the database was unreachable
-- carry the id the spool gave them, so that a drain interrupted after its commit (and
-- replayed after a restart) can tell which of them are already stored.
ALTER TABLE hj212.frame ADD COLUMN spool_id uuid;
CREATE INDEX frame_spool_id ON hj212.frame (spool_id, received_at) WHERE spool_id IS NOT NULL;

-- Station clock drift: device time minus platform receive time, seconds (positive = the
-- device clock is ahead). From DataTime of real-time data and from QN.
CREATE TABLE hj212.clock_drift (
    measured_at timestamptz NOT NULL,
    mn          text        NOT NULL,
    source      text        NOT NULL CHECK (source IN ('datatime', 'qn')),
    drift_s     double precision NOT NULL,
    corrected   boolean     NOT NULL DEFAULT false  -- a 1012 was sent because of it
);
SELECT create_hypertable('hj212.clock_drift', by_range('measured_at', INTERVAL '7 days'));
CREATE INDEX clock_drift_mn ON hj212.clock_drift (mn, measured_at DESC);
