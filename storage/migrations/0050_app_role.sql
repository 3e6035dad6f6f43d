-- 0050: the application is not the owner of its schema.
--
-- Migrations run as the owner (the role that owns schema hj212; the embedded cluster's
-- bootstrap role). Everything else (gateway, console, rules engine, the CLI's daily
-- commands) connects as a member of hj212_app, which may read everything but may only
-- INSERT into the evidence: the raw archive, the measurements and device status parsed
-- from it, mark attachments and the audit log. Not being their owner, it can neither
-- ALTER them (no DISABLE TRIGGER), nor drop or truncate them; not being a superuser, it
-- can neither SET session_replication_role nor COPY ... TO PROGRAM. What a superuser
-- can still do to the rows is caught by the hash chains and their signed anchors
-- (storage/anchor.py).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hj212_app') THEN
        CREATE ROLE hj212_app NOLOGIN;
    END IF;
END;
$$;

-- What the application may do per table; every table not named here gets SELECT,
-- INSERT, UPDATE and DELETE. Re-applied by every `hj212 db migrate` (storage/migrate.py),
-- so tables of later migrations are covered without repeating grants in each of them.
CREATE TABLE hj212.app_access (
    table_name  text PRIMARY KEY,
    access      text NOT NULL CHECK (access IN ('append', 'read', 'write-no-delete'))
);
INSERT INTO hj212.app_access VALUES
    ('frame', 'append'), ('measurement', 'append'), ('device_status', 'append'),
    ('audit_log', 'append'), ('mark_attachment', 'append'), ('command_reply', 'append'),
    ('schema_migration', 'read'), ('app_access', 'read'), ('audit_head', 'read'),
    ('chain_head', 'write-no-delete');

CREATE FUNCTION hj212.apply_app_grants() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t record;
BEGIN
    GRANT USAGE ON SCHEMA hj212 TO hj212_app;
    FOR t IN
        SELECT c.relname, a.access FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN hj212.app_access a ON a.table_name = c.relname
        WHERE n.nspname = 'hj212' AND c.relkind IN ('r', 'p', 'v')
    LOOP
        -- REVOKE/GRANT on a hypertable reach its existing chunks too (TimescaleDB
        -- propagates them); new chunks copy the hypertable's privileges.
        EXECUTE format('REVOKE ALL ON hj212.%I FROM hj212_app', t.relname);
        EXECUTE format('GRANT %s ON hj212.%I TO hj212_app',
            CASE t.access
                WHEN 'append' THEN 'SELECT, INSERT'
                WHEN 'read' THEN 'SELECT'
                WHEN 'write-no-delete' THEN 'SELECT, INSERT, UPDATE'
                ELSE 'SELECT, INSERT, UPDATE, DELETE'
            END,
            t.relname);
    END LOOP;
    GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA hj212 TO hj212_app;
END;
$$;

-- The audit chain's head is advanced by the insert trigger with the owner's rights, so
-- the application needs no UPDATE on hj212.audit_head (it could otherwise move it).
ALTER FUNCTION hj212.audit_link() SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
