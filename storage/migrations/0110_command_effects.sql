-- 0110: command results that take effect (issue 19, docs/forwarding.md §1).
--
-- The SM4 key's age: HJ 212-2025 §6.4.3 has a key changed every 90 days, so the registry
-- keeps when the current one was set, by whoever set it (an import, a confirmed 1014).
-- A trigger, not the callers, so that no path that changes the key can forget it.
-- And 1002 (HJ 212-2025: set the logger's MN): the old registry row is kept, with its
-- history under the old MN, deactivated and pointing at the row of the new MN.
ALTER TABLE hj212.station
    ADD COLUMN sm4_key_set_at timestamptz,
    ADD COLUMN replaced_by text REFERENCES hj212.station (mn);

UPDATE hj212.station SET sm4_key_set_at = updated_at WHERE sm4_key IS NOT NULL;

CREATE FUNCTION hj212.station_key_age() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN  -- a copy (1002) keeps the age it was given
        NEW.sm4_key_set_at := CASE WHEN NEW.sm4_key IS NULL THEN NULL
                                   ELSE coalesce(NEW.sm4_key_set_at, now()) END;
    ELSIF NEW.sm4_key IS DISTINCT FROM OLD.sm4_key THEN
        NEW.sm4_key_set_at := CASE WHEN NEW.sm4_key IS NULL THEN NULL ELSE now() END;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER station_key_age BEFORE INSERT OR UPDATE OF sm4_key ON hj212.station
    FOR EACH ROW EXECUTE FUNCTION hj212.station_key_age();
