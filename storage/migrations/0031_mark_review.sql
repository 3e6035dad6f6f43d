-- 0031: marks (标记) proposed by the enterprise and reviewed by the regulator.
--
-- The rules engine and the reports read hj212.data_mark, and every row there is in force
-- (regulations.md §1.3: shutdown and exemption hours leave the period, invalid hours do
-- not count as valid and are not judged for exceedance). So a proposal waits here, in
-- hj212.mark_request, and changes nothing; approving it writes the hj212.data_mark row
-- (mark_id), which the engine sees from its marked_at (the approval time) on, as it
-- was live. A rejection stays here with its reason. Both are audited (storage/marks.py,
-- and the data_mark trigger of 0004).
CREATE TABLE hj212.mark_request (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mn           text        NOT NULL,
    pollutant    text,
    period       tstzrange   NOT NULL CHECK (NOT isempty(period)),
    kind         text        NOT NULL CHECK (kind IN
                 ('shutdown', 'maintenance', 'calibration', 'force-majeure', 'other')),
    reason       text        NOT NULL CHECK (reason <> ''),
    requested_by text        NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    state        text        NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'approved', 'rejected')),
    reviewed_by  text,
    reviewed_at  timestamptz,
    review_note  text        NOT NULL DEFAULT '',
    mark_id      bigint      REFERENCES hj212.data_mark (id),
    CHECK ((state = 'pending') = (reviewed_at IS NULL)),
    CHECK ((state = 'approved') = (mark_id IS NOT NULL))
);
CREATE INDEX mark_request_mn_period ON hj212.mark_request (mn, lower(period));
CREATE INDEX mark_request_pending ON hj212.mark_request (requested_at) WHERE state = 'pending';

-- Supporting documents (photos, maintenance records, notices), kept with their SHA-256.
-- Append-only: evidence is never edited.
CREATE TABLE hj212.mark_attachment (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id  bigint      NOT NULL REFERENCES hj212.mark_request (id),
    name        text        NOT NULL,
    sha256      bytea       NOT NULL CHECK (length(sha256) = 32),
    size        bigint      NOT NULL,
    content     bytea       NOT NULL,
    added_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mark_attachment_request ON hj212.mark_attachment (request_id);
CREATE TRIGGER mark_attachment_append_only BEFORE UPDATE OR DELETE ON hj212.mark_attachment
    FOR EACH ROW EXECUTE FUNCTION hj212.refuse_change('mark_attachment');
