-- 0135: corrected and substituted values, beside the raw ones (docs/corrections.md).
--
-- Seed 001 Art. 23 and docs/regulations.md §1.2, §2.2, §12: data are corrected with a
-- stated reason and reviewed, never by editing the record. hj212.measurement and the
-- raw archive (hj212.frame, its hash chain) are not touched: a correction is a row
-- here, proposed by the enterprise and reviewed by a regulator other than the proposer.
-- Only an approved row takes effect (in the figures, services/figures.py, and in the
-- rules engine, which reads it at reviewed_at as one of its inputs).
CREATE TABLE hj212.correction (
    id           bigint           GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mn           text             NOT NULL REFERENCES hj212.station (mn),
    pollutant    text             NOT NULL,
    period_kind  text             NOT NULL DEFAULT 'hour' CHECK (period_kind IN ('hour', 'day')),
    data_time    timestamptz      NOT NULL,
    original     double precision,  -- the stored value it replaces (NULL: none was stored)
    new_value    double precision NOT NULL CHECK (new_value = new_value), -- not NaN
    kind         text             NOT NULL CHECK (kind IN ('substitution', 'correction')),
    rule         text,              -- the substitution rule used (rules/corrections.py)
    basis        jsonb            NOT NULL DEFAULT '{}',  -- the hours the rule used
    reason       text             NOT NULL CHECK (btrim(reason) <> ''),
    proposed_by  text             NOT NULL,
    proposed_at  timestamptz      NOT NULL,
    state        text             NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'approved', 'returned', 'rejected')),
    reviewed_by  text,
    reviewed_at  timestamptz,
    review_note  text             NOT NULL DEFAULT '',
    CHECK ((kind = 'substitution') = (rule IS NOT NULL)),
    CHECK ((state = 'pending') = (reviewed_at IS NULL)),
    CHECK (reviewed_by IS NULL OR reviewed_by <> proposed_by)
);
CREATE INDEX correction_mn_time ON hj212.correction (mn, data_time);
CREATE INDEX correction_reviewed ON hj212.correction (reviewed_at) WHERE state = 'approved';
-- At most one approved value per station, factor and period: a later correction of the
-- same hour is proposed after the first is returned or rejected.
CREATE UNIQUE INDEX correction_one_in_force ON hj212.correction
    (mn, pollutant, period_kind, data_time) WHERE state = 'approved';

-- Vouchers (maintenance records, lab reports, photos), kept with their SHA-256;
-- append-only like the mark attachments.
CREATE TABLE hj212.correction_attachment (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    correction_id bigint      NOT NULL REFERENCES hj212.correction (id),
    name          text        NOT NULL,
    sha256        bytea       NOT NULL CHECK (length(sha256) = 32),
    size          bigint      NOT NULL,
    content       bytea       NOT NULL,
    added_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX correction_attachment_of ON hj212.correction_attachment (correction_id);
CREATE TRIGGER correction_attachment_append_only
    BEFORE UPDATE OR DELETE ON hj212.correction_attachment
    FOR EACH ROW EXECUTE FUNCTION hj212.refuse_change('correction_attachment');

-- A proposal changes only by its one review; it is never deleted.
INSERT INTO hj212.app_access VALUES
    ('correction', 'write-no-delete'), ('correction_attachment', 'append');
