-- 0054: the secrets of 1072 (NewPW) and HJ 212-2025 1014 (NewSK) live only where the
-- registry needs them: in the station's row as pending until the device confirms the
-- command (9012 ExeRtn=1), then as its password or key. The command row keeps asterisks
-- (storage/commands.py), so neither hj212.command, its audit entries nor the API show
-- them, and the gateway stops locking out a device whose password it just changed.
ALTER TABLE hj212.station
    ADD COLUMN pending_password text CHECK (length(pending_password) BETWEEN 1 AND 6),
    ADD COLUMN pending_sm4_key text CHECK (pending_sm4_key ~ '^[0-9A-Fa-f]{32}$');

-- the audit trigger of 0006, with the pending secrets also written only as *_changed
CREATE OR REPLACE FUNCTION hj212.audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    new_row  jsonb := CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE to_jsonb(NEW) END;
    old_row  jsonb := CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE to_jsonb(OLD) END;
    row_data jsonb := coalesce(new_row, old_row);
    secret   text;
BEGIN
    FOREACH secret IN ARRAY ARRAY['password', 'pw', 'sm4_key', 'pending_password',
                                  'pending_sm4_key'] LOOP
        IF row_data ? secret THEN
            row_data := (row_data - secret) || jsonb_build_object(
                secret || '_changed',
                (new_row -> secret) IS DISTINCT FROM (old_row -> secret));
        END IF;
    END LOOP;
    INSERT INTO hj212.audit_log (action, object, mn, detail)
    VALUES (lower(TG_OP), TG_TABLE_NAME, row_data ->> 'mn', row_data);
    RETURN NULL;
END;
$$;
