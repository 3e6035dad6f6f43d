-- 0121 (issue 20): a station's answer to 1011 (its SystemTime, HJ 212-2017 C.2) is a
-- clock drift measurement too (gateway/clock.py).
ALTER TABLE hj212.clock_drift DROP CONSTRAINT clock_drift_source_check;
ALTER TABLE hj212.clock_drift ADD CONSTRAINT clock_drift_source_check
    CHECK (source IN ('datatime', 'qn', 'systemtime'));
