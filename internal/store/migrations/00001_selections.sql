-- Selections, their committee and the members' conflict declarations.
-- The SQL is portable between SQLite and PostgreSQL: TEXT, BIGINT, INTEGER, BOOLEAN and
-- TIMESTAMP only, natural keys instead of auto-increment columns, and every instant is
-- written in UTC by the store (TIMESTAMP is the one type name both databases map to a time).

-- +goose Up
CREATE TABLE selections (
    id                           TEXT      NOT NULL PRIMARY KEY,
    workflow_id                  TEXT      NOT NULL,
    create_request_id            TEXT      NOT NULL,
    definition_sha256            TEXT      NOT NULL,
    position_title               TEXT      NOT NULL,
    position_unit                TEXT      NOT NULL DEFAULT '',
    agency                       TEXT      NOT NULL,
    time_zone                    TEXT      NOT NULL DEFAULT '',
    config                       TEXT      NOT NULL,
    stage                        TEXT      NOT NULL,
    phase                        TEXT      NOT NULL DEFAULT '',
    stage_opened_at              TIMESTAMP NULL,
    window_opens                 TIMESTAMP NULL,
    window_closes                TIMESTAMP NULL,
    window_closes_wall           TIMESTAMP NULL,
    window_extension             INTEGER   NOT NULL DEFAULT 0,
    intake_frozen                BOOLEAN   NOT NULL DEFAULT FALSE,
    snapshot_digest              TEXT      NOT NULL DEFAULT '',
    appointed_application        TEXT      NOT NULL DEFAULT '',
    ppk_decree_ref               TEXT      NOT NULL DEFAULT '',
    oversight_recommendation_ref TEXT      NOT NULL DEFAULT '',
    cancel_reason                TEXT      NOT NULL DEFAULT '',
    audit_seq                    BIGINT    NOT NULL DEFAULT 0,
    audit_head                   TEXT      NOT NULL DEFAULT '',
    version                      BIGINT    NOT NULL DEFAULT 1,
    created_at                   TIMESTAMP NOT NULL,
    updated_at                   TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX selections_create_request ON selections (create_request_id);
CREATE INDEX selections_created ON selections (created_at, id);
CREATE INDEX selections_stage_created ON selections (stage, created_at, id);

CREATE TABLE committee_members (
    selection_id TEXT    NOT NULL REFERENCES selections (id),
    member_id    TEXT    NOT NULL,
    ordinal      INTEGER NOT NULL,
    display_name TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    role         TEXT    NOT NULL,
    post_level   TEXT    NOT NULL DEFAULT '',
    affiliation  TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (selection_id, member_id)
);

CREATE TABLE conflicts (
    selection_id   TEXT      NOT NULL REFERENCES selections (id),
    member_id      TEXT      NOT NULL,
    application_id TEXT      NOT NULL,
    relationship   TEXT      NOT NULL DEFAULT '',
    reason         TEXT      NOT NULL DEFAULT '',
    declared_by    TEXT      NOT NULL,
    declared_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (selection_id, member_id, application_id)
);

-- +goose Down
DROP TABLE conflicts;
DROP TABLE committee_members;
DROP TABLE selections;
