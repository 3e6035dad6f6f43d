-- 0100: what the enterprise files on a case and what the regulator answers
-- (docs/regulations.md §6.5; seed 003 Art. 15, 环发〔2008〕6号 第十四条/第十五条).
--
-- The rules engine reads every row here as an input at the time it was filed (filed_at,
-- reviewed_at, entered_at: the platform's clock when the row was written, kept in the
-- row), the way it reads marks, so a replay of the window sees exactly what the live
-- engine saw. Rows are evidence: reports, reviews and attachments are append-only; a
-- report's and a sample's review state is the only thing that changes, and the review
-- itself is its own row.

-- A written report on an open case (cause, start, expected restoration, measures), a
-- restoration notice on it, or, before any case, an advance notice of a planned stop of
-- production (停运) or maintenance of the monitoring facility (维护) over a window.
-- A corrected report points at the returned one it answers (corrects).
CREATE TABLE hj212.case_report (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mn               text        NOT NULL,
    case_id          bigint      REFERENCES hj212.case (id),
    kind             text        NOT NULL CHECK (kind IN
                     ('written', 'restoration', 'planned-stop', 'planned-maintenance')),
    cause            text        NOT NULL DEFAULT '',
    started_at       timestamptz,
    expected_restore timestamptz,
    measures         text        NOT NULL DEFAULT '',
    period           tstzrange   CHECK (period IS NULL OR NOT isempty(period)),
    corrects         bigint      REFERENCES hj212.case_report (id),
    filed_by         text        NOT NULL,
    filed_at         timestamptz NOT NULL,
    state            text        NOT NULL DEFAULT 'filed'
                     CHECK (state IN ('filed', 'acknowledged', 'returned')),
    CHECK ((kind LIKE 'planned-%') = (case_id IS NULL)),
    CHECK ((kind LIKE 'planned-%') = (period IS NOT NULL))
);
CREATE INDEX case_report_filed ON hj212.case_report (filed_at);
CREATE INDEX case_report_case ON hj212.case_report (case_id);
CREATE INDEX case_report_mn ON hj212.case_report (mn, filed_at);

-- The regulator's answer to a report: acknowledged, or returned with a note for
-- correction. Acknowledging an advance notice writes the data mark the national rules
-- give a planned stop (mark_id: 停运 shutdown or 自动监测设备维护 maintenance).
CREATE TABLE hj212.case_review (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_id   bigint      NOT NULL REFERENCES hj212.case_report (id),
    decision    text        NOT NULL CHECK (decision IN ('acknowledged', 'returned')),
    note        text        NOT NULL DEFAULT '',
    reviewed_by text        NOT NULL,
    reviewed_at timestamptz NOT NULL,
    mark_id     bigint      REFERENCES hj212.data_mark (id),
    CHECK (decision = 'acknowledged' OR note <> '')
);
CREATE INDEX case_review_at ON hj212.case_review (reviewed_at);
CREATE INDEX case_review_report ON hj212.case_review (report_id);

-- Manual monitoring results (手工监测值录入, docs/regulations.md §1.3) while the case's
-- facility is down: their own series, never judged for exceedance.
CREATE TABLE hj212.manual_sample (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mn          text        NOT NULL,
    case_id     bigint      NOT NULL REFERENCES hj212.case (id),
    pollutant   text        NOT NULL,
    sampled_at  timestamptz NOT NULL,
    value       double precision NOT NULL,
    unit        text        NOT NULL,
    method      text        NOT NULL CHECK (method <> ''),
    laboratory  text        NOT NULL CHECK (laboratory <> ''),
    entered_by  text        NOT NULL,
    entered_at  timestamptz NOT NULL,
    state       text        NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'accepted', 'rejected')),
    reviewed_by text,
    reviewed_at timestamptz,
    review_note text        NOT NULL DEFAULT '',
    CHECK ((state = 'pending') = (reviewed_at IS NULL))
);
CREATE INDEX manual_sample_entered ON hj212.manual_sample (entered_at);
CREATE INDEX manual_sample_mn ON hj212.manual_sample (mn, sampled_at);

-- Attachments of a report or a sample (the lab report): stored with their SHA-256,
-- which the database checks against the content, and a size limit (10 MiB).
CREATE TABLE hj212.case_attachment (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    report_id    bigint      REFERENCES hj212.case_report (id),
    sample_id    bigint      REFERENCES hj212.manual_sample (id),
    name         text        NOT NULL CHECK (name <> ''),
    content_type text        NOT NULL,
    sha256       bytea       NOT NULL CHECK (length(sha256) = 32),
    size         bigint      NOT NULL CHECK (size > 0 AND size <= 10485760),
    content      bytea       NOT NULL,
    added_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (num_nonnulls(report_id, sample_id) = 1),
    CHECK (sha256 = sha256(content) AND size = length(content))
);
CREATE INDEX case_attachment_report ON hj212.case_attachment (report_id);
CREATE INDEX case_attachment_sample ON hj212.case_attachment (sample_id);

CREATE TRIGGER case_attachment_append_only BEFORE UPDATE OR DELETE ON hj212.case_attachment
    FOR EACH ROW EXECUTE FUNCTION hj212.refuse_change('case_attachment');
CREATE TRIGGER case_review_append_only BEFORE UPDATE OR DELETE ON hj212.case_review
    FOR EACH ROW EXECUTE FUNCTION hj212.refuse_change('case_review');

INSERT INTO hj212.app_access VALUES
    ('case_attachment', 'append'), ('case_review', 'append'),
    ('case_report', 'write-no-delete'), ('manual_sample', 'write-no-delete');
