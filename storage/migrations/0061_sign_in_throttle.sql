-- 0061: sign-in throttling by name *and* source, kept in the database so that it holds
-- across console processes (storage/sign_in.py documents the counting).
--
-- One row per key and window: (name, source) counts the attempts at one name from one
-- source; ('', source) the attempts at any name from that source; ('', '') the audit
-- entries failed sign-ins have written in the window (their budget). Names match
-- console_user's pattern and sources are addresses, so '' is never a real one. The
-- table is a set of counters, not a record: the record is the audit log.
CREATE TABLE hj212.sign_in_throttle (
    name         text        NOT NULL,
    source       text        NOT NULL,
    window_start timestamptz NOT NULL,
    attempts     integer     NOT NULL CHECK (attempts >= 0),
    PRIMARY KEY (name, source)
);
CREATE INDEX sign_in_throttle_window ON hj212.sign_in_throttle (window_start);
