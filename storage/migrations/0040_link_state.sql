-- 0040: what reaches a station's chain head, accepted or refused.
-- updated_at moves with every frame of the chain, refused ones included, so a station
-- whose every frame was refused (a legacy CRC it may not use, an SM4 key the platform
-- lacks, a wrong password) looked online. The writer now also records, in the same
-- update of the head row:
--   accepted_at   when a frame of the station was last stored as ok or duplicate;
--   data_at       ... one that carried data (a 2025 logger's heartbeats get through
--                 when its encrypted data do not);
--   refused_at    when one was last archived as rejected or unauthorized,
--   refused_code  and why (the code before ':' in hj212.frame.error: legacy-crc,
--                 decrypt, crc, wrong-password, unknown-station, ...).
-- None of these columns is indexed: the head's updates stay HOT (0009).
ALTER TABLE hj212.chain_head
    ADD COLUMN accepted_at  timestamptz,
    ADD COLUMN data_at      timestamptz,
    ADD COLUMN refused_at   timestamptz,
    ADD COLUMN refused_code text;

-- Heads written before this migration: their last accepted frame, looked up on the
-- frame_mn_time index over the last week (older than that reads as offline anyway).
UPDATE hj212.chain_head h SET accepted_at = (
    SELECT max(f.received_at) FROM hj212.frame f
    WHERE f.mn = h.chain AND f.status IN ('ok', 'duplicate')
      AND f.received_at > now() - interval '7 days')
WHERE h.chain <> '';
UPDATE hj212.chain_head SET data_at = accepted_at;
