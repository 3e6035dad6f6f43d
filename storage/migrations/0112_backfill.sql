-- 0112: back-fill (补传) requests (issue 19, docs/forwarding.md §6): per station, the
-- window last asked for, how many hours were missing then, and how many requests in a
-- row brought nothing; past the limit the station is reported (gave_up_at) and not
-- asked again for a while. The requests themselves are hj212.command rows
-- (requested_by 'backfill').
CREATE TABLE hj212.backfill (
    mn              text        PRIMARY KEY,
    window_start    timestamptz NOT NULL,   -- the first missing hour asked for
    window_end      timestamptz NOT NULL,   -- the last one (its start)
    missing         integer     NOT NULL,   -- hours missing in the lookback when asked
    tries           integer     NOT NULL DEFAULT 1,  -- requests in a row without progress
    asked_at        timestamptz NOT NULL,
    gave_up_at      timestamptz,            -- reported: not answered; asked again later
    last_command_id bigint
);
