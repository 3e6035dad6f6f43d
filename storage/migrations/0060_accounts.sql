-- 0060: console accounts a provincial platform can hold people to.
--
-- Real-name fields (docs/regulations.md §12, seed 001 Art. 3: 用户账户实行实名制管理),
-- who made the account, when it was deactivated (Art. 7(六): 及时暂停使用其账户), and a
-- session epoch:
-- a session cookie carries the epoch it was issued under (console/auth.py) and is valid
-- only while the user's epoch is unchanged, so a password change, a reset, a
-- deactivation or a sign-out ends the sessions at once, whatever the clocks say.
ALTER TABLE hj212.console_user
    ADD COLUMN full_name           text        NOT NULL DEFAULT '',
    ADD COLUMN unit                text        NOT NULL DEFAULT '',
    ADD COLUMN phone               text        NOT NULL DEFAULT '',
    ADD COLUMN created_by          text,
    ADD COLUMN deactivated_at      timestamptz,
    ADD COLUMN password_changed_at timestamptz,
    ADD COLUMN session_epoch       integer     NOT NULL DEFAULT 0;

-- Tokens expire, and say who revoked them. Tokens made before this migration
-- get 90 days from now, the default lifetime of new ones.
ALTER TABLE hj212.api_token
    ADD COLUMN expires_at   timestamptz,
    ADD COLUMN revoked_by   text,
    ADD COLUMN last_used_at timestamptz;
UPDATE hj212.api_token SET expires_at = greatest(created_at, now()) + interval '90 days';
ALTER TABLE hj212.api_token ALTER COLUMN expires_at SET NOT NULL;
CREATE INDEX api_token_user ON hj212.api_token (user_name);

-- Who changed a user: the acting user and its client address come from the settings
-- hj212.actor / hj212.client that storage/console_store.py sets in the transaction
-- (the audit_log defaults of 0062 fill them in); a change records the old values of
-- what it changed under "before", so that a change can be undone by reading it. Never a
-- password hash: only whether it changed, and whether the sessions were ended.
CREATE OR REPLACE FUNCTION hj212.audit_console_user() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    shown  text[] := ARRAY['role', 'region_prefix', 'enterprise', 'active', 'full_name',
                           'unit', 'phone'];
    new_row jsonb := to_jsonb(NEW);
    old_row jsonb := CASE WHEN TG_OP = 'UPDATE' THEN to_jsonb(OLD) ELSE '{}'::jsonb END;
    before  jsonb := '{}'::jsonb;
    field   text;
    detail  jsonb;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        FOREACH field IN ARRAY shown LOOP
            IF new_row -> field IS DISTINCT FROM old_row -> field THEN
                before := before || jsonb_build_object(field, old_row -> field);
            END IF;
        END LOOP;
    END IF;
    detail := jsonb_build_object('name', NEW.name, 'created_by', NEW.created_by,
        'password_changed',
            TG_OP = 'INSERT' OR NEW.password_hash IS DISTINCT FROM OLD.password_hash,
        'sessions_ended',
            TG_OP = 'UPDATE' AND NEW.session_epoch IS DISTINCT FROM OLD.session_epoch)
        || (SELECT jsonb_object_agg(f, new_row -> f) FROM unnest(shown) AS f);
    IF TG_OP = 'UPDATE' THEN
        detail := detail || jsonb_build_object('before', before);
    END IF;
    INSERT INTO hj212.audit_log (action, object, detail)
    VALUES (lower(TG_OP), 'console_user', detail);
    RETURN NULL;
END;
$$;
