-- 0120 (issue 20): what the codec read and the archive did not keep (docs/protocol.md §16).

-- How each frame bent the standard (protocol.Message.deviations, the legacy CRC variant
-- of a refused frame too), queryable: "which stations sent legacy CRCs this week".
ALTER TABLE hj212.frame ADD COLUMN deviations text[];
-- HJ 212-2025 RF=1: the packet was sent again after an outage (补传).
ALTER TABLE hj212.frame ADD COLUMN rf boolean;

-- Noise levels (HJ 212-2017 Tables C.26-C.28): -Data for the period, -DayData and
-- -NightData for the day's daytime and night-time values.
ALTER TABLE hj212.measurement ADD COLUMN data double precision;
ALTER TABLE hj212.measurement ADD COLUMN day_data double precision;
ALTER TABLE hj212.measurement ADD COLUMN night_data double precision;

-- What a device's answers and event uploads say (protocol/contents.py): its clock
-- (1011), intervals (1061/1063), a restart (2081), a sample kept over the limit (3015),
-- its sampling period (3017) and sample time (3018), an instrument's serial number
-- (3019), and HJ 212-2025 raw data (2013) and standard-sample checks (2062). Evidence:
-- appended only, like device_status.
CREATE TABLE hj212.device_event (
    data_time   timestamptz NOT NULL,   -- the message's DataTime, else when it was received
    mn          text        NOT NULL,
    cn          text        NOT NULL,
    kind        text        NOT NULL,   -- system-time, interval, restart, ..., standard-check
    pollutant   text        NOT NULL DEFAULT '',  -- '' when the fact is the station's
    payload     jsonb       NOT NULL,
    frame_id    bigint      NOT NULL,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (mn, cn, kind, pollutant, data_time)
);
CREATE INDEX device_event_kind ON hj212.device_event (kind, data_time);
INSERT INTO hj212.app_access VALUES ('device_event', 'append');
