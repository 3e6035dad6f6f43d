-- 0030: the audit log becomes tamper-evident: one SHA-256 hash chain over every entry,
-- whoever writes it (storage/audit.py's append, or the registry/mark/command triggers of
-- 0004/0006). The append-only triggers stay; the chain catches whoever bypasses them
-- (a superuser disabling triggers): `hj212 audit verify`.
--
-- The chain is in `seq` order, handed out under the row lock of hj212.audit_head (not in
-- id order: an identity is drawn before the lock, so two concurrent writers could commit
-- their ids in the other order). storage/audit.py documents the hashed message; it is
-- computed here, in the database, so that no writer can skip it.
ALTER TABLE hj212.audit_log
    ADD COLUMN seq bigint,
    ADD COLUMN hash bytea,
    ADD COLUMN prev_hash bytea;
CREATE INDEX audit_log_seq ON hj212.audit_log (seq) WHERE seq IS NOT NULL;

-- The chain's last link (one row). Entries written before this migration have no hash
-- and stand outside the chain.
CREATE TABLE hj212.audit_head (
    one        boolean     PRIMARY KEY DEFAULT true CHECK (one),
    last_seq   bigint      NOT NULL DEFAULT 0,
    last_hash  bytea       NOT NULL DEFAULT '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea,
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO hj212.audit_head DEFAULT VALUES;

CREATE FUNCTION hj212.audit_text(value text) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN value IS NULL THEN int8send(-1)
                ELSE int8send(octet_length(convert_to(value, 'UTF8')))
                     || convert_to(value, 'UTF8') END
$$;

CREATE FUNCTION hj212.audit_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head hj212.audit_head%ROWTYPE;
BEGIN
    SELECT * INTO head FROM hj212.audit_head WHERE one FOR UPDATE;
    NEW.seq := head.last_seq + 1;
    NEW.prev_hash := head.last_hash;
    NEW.hash := sha256(
        convert_to('hj212-audit-v1', 'UTF8') || '\x00'::bytea
        || NEW.prev_hash
        || int8send(NEW.seq)
        || int8send(NEW.id)
        || int8send((extract(epoch FROM NEW.at) * 1000000)::bigint)
        || hj212.audit_text(NEW.actor)
        || hj212.audit_text(NEW.action)
        || hj212.audit_text(NEW.object)
        || hj212.audit_text(NEW.mn)
        || hj212.audit_text(NEW.detail::text));
    UPDATE hj212.audit_head SET last_seq = NEW.seq, last_hash = NEW.hash, updated_at = now()
        WHERE one;
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_log_link BEFORE INSERT ON hj212.audit_log
    FOR EACH ROW EXECUTE FUNCTION hj212.audit_link();
