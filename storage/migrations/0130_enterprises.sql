-- 0130: enterprises as entities (docs/quarterly.md §1).
--
-- An enterprise is one row with a stable id and, once known, its unified social credit
-- code (GB 32100-2015; the check character is verified by rules/credit_code.py before
-- any write, the format here). Its names are a history with validity times: a rename
-- closes the current name and opens the next, so a report can name the enterprise as it
-- was called then, and an import that still uses an old name finds the same enterprise
-- (seed 004 四(二)2.5: the mapping to the previous period's register keeps a renamed
-- unit's history whole). Two enterprises never share a current name.
--
-- Stations and console users link by enterprise_id. Their enterprise text columns stay
-- as a copy of the current name, kept by the triggers below, so every reader of the text
-- keeps working during the transition; a writer may give either the id or a name (any
-- name the enterprise ever had), and the trigger fills in the other.
CREATE TABLE hj212.enterprise (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    credit_code  text        UNIQUE
                 CHECK (credit_code ~ '^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$'),
    name         text        NOT NULL UNIQUE CHECK (name <> '' AND length(name) <= 200),
    region_code  char(6)     CHECK (region_code ~ '^[0-9]{6}$'),  -- where it is supervised
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE hj212.enterprise_name (
    enterprise_id bigint      NOT NULL REFERENCES hj212.enterprise (id),
    name          text        NOT NULL CHECK (name <> ''),
    valid_from    timestamptz NOT NULL,  -- '-infinity' for a name from before this table
    valid_to      timestamptz,           -- NULL while it is the current name
    changed_by    text        NOT NULL DEFAULT '',
    reason        text        NOT NULL DEFAULT '',
    PRIMARY KEY (enterprise_id, valid_from),
    CHECK (valid_to IS NULL OR valid_to > valid_from)
);
CREATE UNIQUE INDEX enterprise_name_current ON hj212.enterprise_name (enterprise_id)
    WHERE valid_to IS NULL;
CREATE INDEX enterprise_name_name ON hj212.enterprise_name (name);

-- The enterprise a name stands for: its current holder, else the last one that had it,
-- else a new enterprise of that name (an import naming an enterprise registers it; the
-- name's start is unknown, '-infinity', as for the names migrated below).
CREATE FUNCTION hj212.enterprise_for(wanted text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    found bigint;
BEGIN
    SELECT id INTO found FROM hj212.enterprise WHERE name = wanted;
    IF found IS NULL THEN
        SELECT enterprise_id INTO found FROM hj212.enterprise_name
        WHERE name = wanted ORDER BY valid_from DESC LIMIT 1;
    END IF;
    IF found IS NULL THEN
        INSERT INTO hj212.enterprise (name) VALUES (wanted) RETURNING id INTO found;
        INSERT INTO hj212.enterprise_name (enterprise_id, name, valid_from)
        VALUES (found, wanted, '-infinity');
    END IF;
    RETURN found;
END;
$$;

-- Keeps (enterprise_id, enterprise) of a station or console user consistent: a changed
-- name text finds its enterprise, a changed id takes its current name.
CREATE FUNCTION hj212.link_enterprise() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.enterprise IS NOT DISTINCT FROM OLD.enterprise
            AND NEW.enterprise_id IS DISTINCT FROM OLD.enterprise_id THEN
        NEW.enterprise := coalesce(
            (SELECT name FROM hj212.enterprise WHERE id = NEW.enterprise_id), '');
    ELSIF NEW.enterprise <> '' THEN
        NEW.enterprise_id := hj212.enterprise_for(NEW.enterprise);
        NEW.enterprise := (SELECT name FROM hj212.enterprise WHERE id = NEW.enterprise_id);
    ELSIF NEW.enterprise_id IS NOT NULL THEN
        NEW.enterprise := (SELECT name FROM hj212.enterprise WHERE id = NEW.enterprise_id);
    END IF;
    RETURN NEW;
END;
$$;

-- Existing names become enterprises (their region: the first of their stations').
INSERT INTO hj212.enterprise (name, region_code)
SELECT name, min(region_code) FROM (
    SELECT enterprise AS name, region_code FROM hj212.station WHERE enterprise <> ''
    UNION ALL
    SELECT enterprise, NULL FROM hj212.console_user WHERE enterprise <> ''
) AS names GROUP BY name;
INSERT INTO hj212.enterprise_name (enterprise_id, name, valid_from)
SELECT id, name, '-infinity' FROM hj212.enterprise;

ALTER TABLE hj212.station ADD COLUMN enterprise_id bigint REFERENCES hj212.enterprise (id);
ALTER TABLE hj212.console_user ADD COLUMN enterprise_id bigint REFERENCES hj212.enterprise (id);
UPDATE hj212.station s SET enterprise_id = e.id FROM hj212.enterprise e
WHERE e.name = s.enterprise;
UPDATE hj212.console_user u SET enterprise_id = e.id FROM hj212.enterprise e
WHERE e.name = u.enterprise;
CREATE INDEX station_enterprise ON hj212.station (enterprise_id);
ALTER TABLE hj212.console_user
    ADD CONSTRAINT console_user_enterprise_link
    CHECK (role <> 'enterprise' OR enterprise_id IS NOT NULL);

CREATE TRIGGER station_enterprise BEFORE INSERT OR UPDATE ON hj212.station
    FOR EACH ROW EXECUTE FUNCTION hj212.link_enterprise();
CREATE TRIGGER console_user_enterprise BEFORE INSERT OR UPDATE ON hj212.console_user
    FOR EACH ROW EXECUTE FUNCTION hj212.link_enterprise();
