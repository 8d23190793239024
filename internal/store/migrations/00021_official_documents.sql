-- Official documents: the PDFs the selection issues as public record (the vacancy announcement,
-- each stage result announcement and revision, the committee's minutes, the recommendation to
-- the appointing official, the appointment record, and kinds added later), each signed, with
-- the facts it was rendered from so that anyone can re-render it and compare the digest.
--
-- official_jobs is the durable queue that issues them. A job is one document to issue, named
-- by (selection, kind, subject, revision): subject says what in the selection it is about (a
-- stage, an application; '' for the selection itself) and revision which version. Jobs are
-- derived from the records that call for a document (a projected announcement window, a
-- published stage result revision, a settled shortlist, an appointment), or queued by the code
-- that makes those records; the key makes both idempotent. A worker leases a job
-- (lease_until), renders, signs and stores the document and marks the job done in the same
-- transaction; a failure is kept in last_error and retried at next_attempt_at with backoff.
-- seq and issue_time are fixed when the job is first leased, so a retried rendering carries
-- the same number and date.
--
-- official_documents.id is the URL-safe name of the document (/verify/{id}); number is the
-- document number as printed. A revision supersedes the previous revision of the same
-- (selection, kind, subject): superseded_by points forward, supersedes back. content is the
-- PDF; signature the detached signature (base64) by key_id with algorithm.

-- +goose Up
CREATE TABLE official_jobs (
    selection_id    TEXT      NOT NULL REFERENCES selections (id),
    kind            TEXT      NOT NULL,
    subject         TEXT      NOT NULL,
    revision        INTEGER   NOT NULL,
    state           TEXT      NOT NULL,
    seq             INTEGER   NOT NULL DEFAULT 0,
    issue_time      TIMESTAMP NULL,
    attempts        INTEGER   NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until     TIMESTAMP NULL,
    last_error      TEXT      NOT NULL DEFAULT '',
    document_id     TEXT      NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (selection_id, kind, subject, revision)
);
CREATE INDEX official_jobs_due ON official_jobs (state, next_attempt_at);
CREATE UNIQUE INDEX official_jobs_seq ON official_jobs (selection_id, seq) WHERE seq > 0;

CREATE TABLE official_documents (
    id            TEXT      NOT NULL PRIMARY KEY,
    number        TEXT      NOT NULL,
    selection_id  TEXT      NOT NULL REFERENCES selections (id),
    seq           INTEGER   NOT NULL,
    kind          TEXT      NOT NULL,
    subject       TEXT      NOT NULL,
    revision      INTEGER   NOT NULL,
    stage         TEXT      NOT NULL DEFAULT '',
    supersedes    TEXT      NOT NULL DEFAULT '',
    superseded_by TEXT      NOT NULL DEFAULT '',
    issuer        TEXT      NOT NULL,
    issue_time    TIMESTAMP NOT NULL,
    sha256        TEXT      NOT NULL,
    signature     TEXT      NOT NULL,
    key_id        TEXT      NOT NULL,
    algorithm     TEXT      NOT NULL,
    media_type    TEXT      NOT NULL,
    size_bytes    BIGINT    NOT NULL,
    content       BYTEA     NOT NULL,
    facts         TEXT      NOT NULL,
    create_time   TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX official_documents_number ON official_documents (number);
CREATE UNIQUE INDEX official_documents_key ON official_documents (selection_id, kind, subject, revision);
CREATE INDEX official_documents_selection ON official_documents (selection_id, seq);

-- +goose Down
DROP INDEX official_documents_selection;
DROP INDEX official_documents_key;
DROP INDEX official_documents_number;
DROP TABLE official_documents;
DROP INDEX official_jobs_seq;
DROP INDEX official_jobs_due;
DROP TABLE official_jobs;
