-- 0131: quarterly direct-report submissions (国控源直报, seed 004; docs/quarterly.md §2).
--
-- One submission per enterprise and quarter. The enterprise edits a draft (its lines
-- pre-filled from the platform's figures); each submit freezes the lines as canonical
-- JSON with their SHA-256 in an append-only version row, so what the city and the
-- province reviewed is exactly what is kept and can be re-verified. Reviews name the
-- version they judged. The workflow's state is on the submission row.
CREATE TABLE hj212.quarterly_submission (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    enterprise_id bigint      NOT NULL REFERENCES hj212.enterprise (id),
    quarter       text        NOT NULL CHECK (quarter ~ '^[0-9]{4}Q[1-4]$'),
    region_code   char(6)     NOT NULL CHECK (region_code ~ '^[0-9]{6}$'),  -- jurisdiction
    state         text        NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'submitted',
                  'city-returned', 'city-forwarded', 'province-returned', 'approved')),
    draft         jsonb       NOT NULL,              -- the lines being edited
    version       integer     NOT NULL DEFAULT 0,    -- the last submitted (0: none yet)
    created_by    text        NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    UNIQUE (enterprise_id, quarter)
);
CREATE INDEX quarterly_submission_quarter ON hj212.quarterly_submission (quarter, region_code);

CREATE TABLE hj212.quarterly_version (
    submission_id bigint      NOT NULL REFERENCES hj212.quarterly_submission (id),
    version       integer     NOT NULL CHECK (version >= 1),
    canonical     text        NOT NULL,  -- the lines, canonical JSON (docs/quarterly.md §2)
    sha256        bytea       NOT NULL CHECK (length(sha256) = 32),
    submitted_by  text        NOT NULL,
    submitted_at  timestamptz NOT NULL,
    late          boolean     NOT NULL,  -- after the enterprise's deadline
    note          text        NOT NULL DEFAULT '',
    PRIMARY KEY (submission_id, version)
);
CREATE TRIGGER quarterly_version_append_only BEFORE UPDATE OR DELETE ON hj212.quarterly_version
    FOR EACH ROW EXECUTE FUNCTION hj212.refuse_change('quarterly_version');

CREATE TABLE hj212.quarterly_review (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    submission_id bigint      NOT NULL REFERENCES hj212.quarterly_submission (id),
    version       integer     NOT NULL,
    level         text        NOT NULL CHECK (level IN ('city', 'province')),
    outcome       text        NOT NULL CHECK (outcome IN ('returned', 'forwarded', 'approved')),
    reviewer      text        NOT NULL,
    at            timestamptz NOT NULL,
    comment       text        NOT NULL,
    FOREIGN KEY (submission_id, version) REFERENCES hj212.quarterly_version
);
CREATE INDEX quarterly_review_submission ON hj212.quarterly_review (submission_id, at);

-- A corrected line's voucher: stored once with its SHA-256, named by the line.
CREATE TABLE hj212.quarterly_attachment (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    submission_id bigint      NOT NULL REFERENCES hj212.quarterly_submission (id),
    name          text        NOT NULL,
    content_type  text        NOT NULL,
    sha256        bytea       NOT NULL CHECK (length(sha256) = 32),
    content       bytea       NOT NULL,
    added_by      text        NOT NULL,
    added_at      timestamptz NOT NULL
);
CREATE TRIGGER quarterly_attachment_append_only
    BEFORE UPDATE OR DELETE ON hj212.quarterly_attachment
    FOR EACH ROW EXECUTE FUNCTION hj212.refuse_change('quarterly_attachment');

INSERT INTO hj212.app_access VALUES
    ('quarterly_version', 'append'), ('quarterly_review', 'append'),
    ('quarterly_attachment', 'append');
