-- 0006: the audit log never holds secrets. The registry trigger of 0004 copied whole rows
-- (to_jsonb(NEW)) into hj212.audit_log, which is append-only and kept for years: a
-- station's PW and, since 0008, its SM4 key would have stayed there in clear. The audit
-- row now says only whether a secret changed. (0004's rows written before this migration
-- cannot be edited by design: rotate the keys of any station imported before it.)
CREATE OR REPLACE FUNCTION hj212.audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    new_row  jsonb := CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE to_jsonb(NEW) END;
    old_row  jsonb := CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE to_jsonb(OLD) END;
    row_data jsonb := coalesce(new_row, old_row);
    secret   text;
BEGIN
    FOREACH secret IN ARRAY ARRAY['password', 'pw', 'sm4_key'] LOOP
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
