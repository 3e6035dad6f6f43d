-- 0005: one index fewer on the raw archive, the hottest insert path after measurements.
-- create_hypertable made frame_received_at_idx (received_at DESC) by default. Every read
-- of frames names a station (frame_mn_time: mn, received_at) or scans a window of whole
-- chunks (verify-chain, retention needs no index at all), so the time-only index only
-- cost an index insertion per frame (benchmarks/writer.py).
DROP INDEX IF EXISTS hj212.frame_received_at_idx;
