-- 0051: frames of an MN the registry does not know are 'quarantined' by default
-- ([gateway] unknown_station): archived raw and answered, their values not stored, so
-- that a station registered later under that MN does not inherit them as its history.
ALTER TABLE hj212.frame DROP CONSTRAINT frame_status_check;
ALTER TABLE hj212.frame ADD CONSTRAINT frame_status_check
    CHECK (status IN ('ok', 'duplicate', 'rejected', 'garbage', 'unauthorized', 'quarantined'));
