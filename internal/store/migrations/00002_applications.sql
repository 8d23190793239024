-- Candidates and applications. Personal data (name, NIP, e-mail, phone, birth date) lives in
-- candidates, one row per application, so that it can be access-restricted, exported or
-- erased on its own without touching the application rows, the published results or the
-- audit chain, which refer to applications by ID only.

-- +goose Up
CREATE TABLE candidates (
    id           TEXT      NOT NULL PRIMARY KEY,
    selection_id TEXT      NOT NULL REFERENCES selections (id),
    subject      TEXT      NOT NULL,
    full_name    TEXT      NOT NULL,
    nip          TEXT      NOT NULL,
    email        TEXT      NOT NULL,
    phone        TEXT      NOT NULL DEFAULT '',
    birth_date   TEXT      NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
-- One person applies once per selection, whichever account they use.
CREATE UNIQUE INDEX candidates_selection_nip ON candidates (selection_id, nip);

CREATE TABLE applications (
    id                 TEXT      NOT NULL PRIMARY KEY,
    selection_id       TEXT      NOT NULL REFERENCES selections (id),
    candidate_id       TEXT      NOT NULL REFERENCES candidates (id),
    owner              TEXT      NOT NULL,
    request_id         TEXT      NOT NULL,
    request_sha256     TEXT      NOT NULL,
    profile            TEXT      NOT NULL,
    documents          TEXT      NOT NULL,
    statement          TEXT      NOT NULL DEFAULT '',
    facts              TEXT      NOT NULL,
    state              TEXT      NOT NULL,
    current_stage      TEXT      NOT NULL,
    rank               INTEGER   NOT NULL DEFAULT 0,
    final_score        BIGINT    NOT NULL DEFAULT 0,
    eliminated_stage   TEXT      NOT NULL DEFAULT '',
    elimination_reason TEXT      NOT NULL DEFAULT '',
    status_en          TEXT      NOT NULL DEFAULT '',
    status_id          TEXT      NOT NULL DEFAULT '',
    submitted_at       TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX applications_candidate ON applications (candidate_id);
-- The single application per candidate (token subject) and selection.
CREATE UNIQUE INDEX applications_selection_owner ON applications (selection_id, owner);
-- Intake idempotency: a retried request_id finds its first result.
CREATE UNIQUE INDEX applications_selection_request ON applications (selection_id, request_id);
-- Keyset pagination: every list order ends in the ID, and every filter is a prefix.
CREATE UNIQUE INDEX applications_selection_id ON applications (selection_id, id);
CREATE INDEX applications_selection_submitted ON applications (selection_id, submitted_at, id);
CREATE INDEX applications_selection_state ON applications (selection_id, state, submitted_at, id);
CREATE INDEX applications_selection_stage ON applications (selection_id, current_stage, state, submitted_at, id);

-- +goose Down
DROP TABLE applications;
DROP TABLE candidates;
