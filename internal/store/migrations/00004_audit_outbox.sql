-- The audit log (a hash chain per selection), the notification outbox, the processed-command
-- ledger that makes every workflow write idempotent, and the frozen application snapshots.

-- +goose Up
CREATE TABLE audit_events (
    selection_id   TEXT      NOT NULL REFERENCES selections (id),
    seq            BIGINT    NOT NULL,
    workflow_id    TEXT      NOT NULL DEFAULT '',
    update_id      TEXT      NOT NULL DEFAULT '',
    command_seq    BIGINT    NOT NULL DEFAULT 0,
    actor_subject  TEXT      NOT NULL,
    role           TEXT      NOT NULL,
    action         TEXT      NOT NULL,
    target         TEXT      NOT NULL,
    reason         TEXT      NOT NULL DEFAULT '',
    workflow_time  TIMESTAMP NOT NULL,
    payload        TEXT      NOT NULL,
    payload_sha256 TEXT      NOT NULL,
    prev_hash      TEXT      NOT NULL,
    hash           TEXT      NOT NULL,
    recorded_at    TIMESTAMP NOT NULL,
    -- The primary key is the linearity guard: two appenders that read the same head both
    -- try to insert the same seq, and one of them fails and retries.
    PRIMARY KEY (selection_id, seq)
);

CREATE TABLE notifications (
    id             TEXT      NOT NULL PRIMARY KEY,
    selection_id   TEXT      NOT NULL REFERENCES selections (id),
    recipient      TEXT      NOT NULL,
    application_id TEXT      NOT NULL DEFAULT '',
    kind           TEXT      NOT NULL,
    code           TEXT      NOT NULL DEFAULT '',
    text_en        TEXT      NOT NULL DEFAULT '',
    text_id        TEXT      NOT NULL DEFAULT '',
    created_at     TIMESTAMP NOT NULL,
    attempts       INTEGER   NOT NULL DEFAULT 0,
    last_error     TEXT      NOT NULL DEFAULT '',
    sent_at        TIMESTAMP NULL
);
CREATE INDEX notifications_pending ON notifications (sent_at, created_at, id);

CREATE TABLE processed_commands (
    workflow_id    TEXT      NOT NULL,
    command_key    TEXT      NOT NULL,
    selection_id   TEXT      NOT NULL,
    kind           TEXT      NOT NULL,
    command_seq    BIGINT    NOT NULL DEFAULT 0,
    payload_sha256 TEXT      NOT NULL,
    audit_seq      BIGINT    NOT NULL DEFAULT 0,
    processed_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (workflow_id, command_key)
);

CREATE TABLE snapshots (
    selection_id TEXT      NOT NULL REFERENCES selections (id),
    snapshot_key TEXT      NOT NULL,
    workflow_id  TEXT      NOT NULL,
    closed_at    TIMESTAMP NOT NULL,
    digest       TEXT      NOT NULL,
    applications INTEGER   NOT NULL,
    body         TEXT      NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (selection_id, snapshot_key)
);

-- +goose Down
DROP TABLE snapshots;
DROP TABLE processed_commands;
DROP TABLE notifications;
DROP TABLE audit_events;
