-- 0020: who may use the console and the HTTP API (console/).
--
-- Local users with a role and a jurisdiction: region_prefix is a prefix of the GB/T 2260
-- region code ('' = everywhere, '42' = Hubei, '4201' = Wuhan); an enterprise user sees
-- only the stations whose hj212.station.enterprise equals its enterprise. Passwords are
-- stored as scrypt hashes only (console/auth.py documents the format).
CREATE TABLE hj212.console_user (
    name          text        PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9_.@-]{1,64}$'),
    password_hash text        NOT NULL,
    role          text        NOT NULL
                  CHECK (role IN ('administrator', 'operator', 'inspector', 'enterprise')),
    region_prefix text        NOT NULL DEFAULT '' CHECK (region_prefix ~ '^[0-9]{0,6}$'),
    enterprise    text        NOT NULL DEFAULT '',
    active        boolean     NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (role <> 'enterprise' OR enterprise <> '')
);

-- API tokens for machine clients (Authorization: Bearer ...). Only the SHA-256 of a
-- token is stored: the token itself is shown once, when it is made.
CREATE TABLE hj212.api_token (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_name   text        NOT NULL REFERENCES hj212.console_user (name),
    token_hash  bytea       NOT NULL UNIQUE,
    label       text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- Who changed a user or a token is audited by the database itself; the hash is never
-- copied into the log (0006's secret filter knows 'password', not 'password_hash').
CREATE FUNCTION hj212.audit_console_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO hj212.audit_log (action, object, detail)
    VALUES (lower(TG_OP), 'console_user', jsonb_build_object(
        'name', NEW.name, 'role', NEW.role, 'region_prefix', NEW.region_prefix,
        'enterprise', NEW.enterprise, 'active', NEW.active,
        'password_changed', TG_OP = 'INSERT' OR NEW.password_hash IS DISTINCT FROM OLD.password_hash));
    RETURN NULL;
END;
$$;
CREATE TRIGGER console_user_audit AFTER INSERT OR UPDATE ON hj212.console_user
    FOR EACH ROW EXECUTE FUNCTION hj212.audit_console_user();
