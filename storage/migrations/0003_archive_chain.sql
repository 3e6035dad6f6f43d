-- 0003: the tamper-evident raw archive (a hash chain per station), device status, chunk sizes.

-- Chunk intervals (performance.md §1, §6: one chunk of every hypertable being written,
-- indexes included, should fit in 25 % of RAM). Sized for a provincial platform of
-- ~2,600 points (Anhui's count) at 30-s real-time + 10-min + hourly + daily data, i.e.
-- 0.0353 frames/s per point = 7.9 M frames/day, on the 24 GiB reference machine
-- (25 % = 6 GiB):
--   measurement: 8 pollutants/frame x ~190 B/row (heap ~100 B, unique index ~60 B,
--                time index ~30 B) = ~12 GB/day -> 6-hour chunks = ~3 GB
--   frame:       ~570 B/frame (raw ~300 B, hashes 66 B, header columns, 2 indexes)
--                = ~4.5 GB/day -> 12-hour chunks = ~2.3 GB
--   device_status: a few rows per 2021 frame at most -> 12-hour chunks, well under 1 GB
-- Together ~5.3 GB active. Bigger platforms shorten these, small sites lengthen them
-- (fewer, fuller chunks plan faster): [storage] chunk_hours_* in hj212.toml, applied by
-- `hj212 db migrate` with set_chunk_time_interval (it affects new chunks only).
-- Five years of 6-hour chunks is ~7,300 chunks; every query here bounds time, so chunk
-- exclusion keeps planning cheap.
SELECT set_chunk_time_interval('hj212.measurement', INTERVAL '6 hours');
SELECT set_chunk_time_interval('hj212.frame', INTERVAL '12 hours');

-- A frame whose every record was already stored is archived as 'duplicate'.
ALTER TABLE hj212.frame DROP CONSTRAINT frame_status_check;
ALTER TABLE hj212.frame ADD CONSTRAINT frame_status_check
    CHECK (status IN ('ok', 'duplicate', 'rejected', 'garbage'));

-- The hash chain (storage/chain.py documents the exact encoding):
--   hash = SHA-256("hj212-frame-v1" | prev_hash | received_at (µs, UTC) | transport | peer | raw)
-- Frames chain per station: the chain key is the frame's MN, and '' for frames without
-- one (garbage, or a header too damaged to read). Chain order is frame id order within
-- the key. prev_hash of the first frame of a chain is 32 zero bytes. Frames stored before
-- this migration have NULL hashes and stand outside the chain.
ALTER TABLE hj212.frame ADD COLUMN hash bytea, ADD COLUMN prev_hash bytea;

-- The last link of each chain, updated in the same transaction as the frames. Its row
-- lock serializes every writer of that station (several gateway processes may share
-- the database), which also makes the writer's duplicate check race-free.
-- data_high: per CN, the latest DataTime (µs since the epoch) stored for this MN; a
-- record newer than that cannot be a retransmission, so only older ones are looked up.
CREATE TABLE hj212.chain_head (
    chain       text        PRIMARY KEY,   -- MN, or '' for frames without one
    last_id     bigint,
    last_hash   bytea,
    frames      bigint      NOT NULL DEFAULT 0,
    data_high   jsonb       NOT NULL DEFAULT '{}',
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- The raw archive is append-only: a correction is a new row elsewhere (a data mark),
-- never an edit of the evidence. drop_chunks (retention) removes whole chunks and is
-- not affected. Whoever bypasses this (a superuser disabling triggers) is still caught
-- by `hj212 db verify-chain`.
-- TG_ARGV[0] names the table (TG_TABLE_NAME would name the chunk).
CREATE FUNCTION hj212.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'hj212.% is append-only: % refused', TG_ARGV[0], TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER frame_append_only BEFORE UPDATE OR DELETE ON hj212.frame
    FOR EACH ROW EXECUTE FUNCTION hj212.refuse_change('frame');
CREATE TRIGGER frame_no_truncate BEFORE TRUNCATE ON hj212.frame
    FOR EACH STATEMENT EXECUTE FUNCTION hj212.refuse_change('frame');

-- Device state (2021 SBx-RS), daily run time (2041 SBx-RT) and field information
-- (3020 ixxxxx-Info, with its PolId): one row per item per record.
CREATE TABLE hj212.device_status (
    data_time   timestamptz NOT NULL,
    mn          text        NOT NULL,
    cn          text        NOT NULL,
    device      text        NOT NULL,   -- SBx for 2021/2041; PolId (or '') for 3020
    item        text        NOT NULL,   -- RS, RT, or the 3020 info code (i12001 ...)
    value       double precision,       -- the value when it is a number
    text_value  text,                   -- and as sent, always
    frame_id    bigint      NOT NULL,
    received_at timestamptz NOT NULL
);
SELECT create_hypertable('hj212.device_status', by_range('data_time', INTERVAL '12 hours'));
CREATE UNIQUE INDEX device_status_record
    ON hj212.device_status (mn, cn, device, item, data_time);
