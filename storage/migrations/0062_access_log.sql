-- 0062: who read what, without flooding the audit chain; and the client address in every
-- audit entry (docs/regulations.md §12, seed 002 Art. 21: 查询、下载…等所有操作可追溯,
-- 日志记录保留时间不少于3年).
--
-- Reads through the console are counted here, one row per user, route, station, client
-- address and interval (storage/access_log.py): a page that polls every 5 s adds to a
-- count instead of writing 720 chained entries an hour. The first read of each row in
-- its interval is also an entry of the hash-chained audit log, so that the chain still
-- says who looked at which station from where, hour by hour. A hypertable, so that its
-- own retention ([storage] retention_days_access, 3 years) drops whole old chunks.
CREATE TABLE hj212.access_log (
    bucket     timestamptz NOT NULL,  -- the interval's start
    actor      text        NOT NULL,
    route      text        NOT NULL,
    mn         text        NOT NULL DEFAULT '',
    client     text        NOT NULL DEFAULT '',
    reads      bigint      NOT NULL DEFAULT 1 CHECK (reads > 0),
    first_at   timestamptz NOT NULL DEFAULT statement_timestamp(),
    last_at    timestamptz NOT NULL DEFAULT statement_timestamp(),
    last_query text        NOT NULL DEFAULT '',
    PRIMARY KEY (bucket, actor, route, mn, client)
);
SELECT create_hypertable('hj212.access_log', by_range('bucket', INTERVAL '30 days'));
CREATE INDEX access_log_actor ON hj212.access_log (actor, bucket DESC);

-- Every audit entry names its client. Writers that know it (the console: the HTTP
-- client's address, behind a trusted proxy the address it forwards; the CLI: the local
-- user and host) set the setting hj212.client on their connection; entries written by
-- database triggers inherit it the same way. Without it, the database's own view of
-- the connection is recorded. It runs before audit_log_link (triggers of one event fire
-- in name order), so the address is part of the hashed entry.
CREATE FUNCTION hj212.audit_client() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT NEW.detail ? 'client' THEN
        NEW.detail := NEW.detail || jsonb_build_object('client', coalesce(
            nullif(current_setting('hj212.client', true), ''),
            'db:' || coalesce(host(inet_client_addr()), 'local')));
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_log_client BEFORE INSERT ON hj212.audit_log
    FOR EACH ROW EXECUTE FUNCTION hj212.audit_client();

-- Entries written by triggers (registry, marks, commands, users) name the console user
-- acting through the connection (hj212.actor), not only the database role.
ALTER TABLE hj212.audit_log ALTER COLUMN actor
    SET DEFAULT coalesce(nullif(current_setting('hj212.actor', true), ''), current_user);
