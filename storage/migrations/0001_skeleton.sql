-- 0001: the raw archive and the measurements, both TimescaleDB hypertables.
CREATE EXTENSION IF NOT EXISTS timescaledb;
CREATE SCHEMA IF NOT EXISTS hj212;

-- Every frame exactly as received, valid or not: the evidence.
CREATE SEQUENCE hj212.frame_id_seq;
CREATE TABLE hj212.frame (
    received_at timestamptz NOT NULL,
    id          bigint      NOT NULL DEFAULT nextval('hj212.frame_id_seq'),
    peer        text        NOT NULL,
    transport   text        NOT NULL DEFAULT 'tcp',
    mn          text,
    qn          text,
    st          text,
    cn          text,
    flag        smallint,
    raw         bytea       NOT NULL,
    status      text        NOT NULL CHECK (status IN ('ok', 'rejected', 'garbage')),
    error       text
);
-- One-day chunks: a city's or province's raw frames for a day stay well under 25 % of RAM
-- (performance.md §1); issue 4 revisits the interval for national scale.
SELECT create_hypertable('hj212.frame', by_range('received_at', INTERVAL '1 day'));
CREATE INDEX frame_mn_time ON hj212.frame (mn, received_at DESC);

-- One row per pollutant per record.
CREATE TABLE hj212.measurement (
    data_time   timestamptz NOT NULL,
    mn          text        NOT NULL,
    cn          text        NOT NULL,
    pollutant   text        NOT NULL,
    rtd         double precision,
    min         double precision,
    avg         double precision,
    max         double precision,
    cou         double precision,
    zs_rtd      double precision,
    zs_min      double precision,
    zs_avg      double precision,
    zs_max      double precision,
    flag        text,
    eflag       text,
    frame_id    bigint      NOT NULL,
    received_at timestamptz NOT NULL
);
SELECT create_hypertable('hj212.measurement', by_range('data_time', INTERVAL '1 day'));
-- A retransmitted record (same MN, CN, DataTime, pollutant) never makes a second row.
CREATE UNIQUE INDEX measurement_record ON hj212.measurement (mn, cn, pollutant, data_time);
