-- Published stage results (every revision is kept: a corrected result is re-published, never
-- overwritten), each application's latest line of each stage result, and objections (sanggah).

-- +goose Up
CREATE TABLE stage_results (
    selection_id       TEXT      NOT NULL REFERENCES selections (id),
    stage              TEXT      NOT NULL,
    revision           INTEGER   NOT NULL,
    published_at       TIMESTAMP NOT NULL,
    objection_deadline TIMESTAMP NULL,
    revision_reason    TEXT      NOT NULL DEFAULT '',
    scores_published   BOOLEAN   NOT NULL DEFAULT FALSE,
    entries            TEXT      NOT NULL,
    PRIMARY KEY (selection_id, stage, revision)
);

CREATE TABLE application_results (
    selection_id   TEXT      NOT NULL REFERENCES selections (id),
    application_id TEXT      NOT NULL,
    stage          TEXT      NOT NULL,
    revision       INTEGER   NOT NULL,
    outcome        TEXT      NOT NULL,
    scores         TEXT      NOT NULL,
    final_score    BIGINT    NOT NULL DEFAULT 0,
    rank           INTEGER   NOT NULL DEFAULT 0,
    reason         TEXT      NOT NULL DEFAULT '',
    published_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (selection_id, application_id, stage)
);

CREATE TABLE objections (
    selection_id   TEXT      NOT NULL REFERENCES selections (id),
    id             TEXT      NOT NULL,
    application_id TEXT      NOT NULL,
    stage          TEXT      NOT NULL,
    candidate      TEXT      NOT NULL,
    reason         TEXT      NOT NULL,
    state          TEXT      NOT NULL,
    answer         TEXT      NOT NULL DEFAULT '',
    answered_by    TEXT      NOT NULL DEFAULT '',
    filed_at       TIMESTAMP NOT NULL,
    answered_at    TIMESTAMP NULL,
    correction     TEXT      NOT NULL DEFAULT '',
    PRIMARY KEY (selection_id, id)
);
-- The one objection per application and stage.
CREATE UNIQUE INDEX objections_application_stage ON objections (selection_id, application_id, stage);
CREATE INDEX objections_filed ON objections (selection_id, filed_at, id);

-- +goose Down
DROP TABLE objections;
DROP TABLE application_results;
DROP TABLE stage_results;
