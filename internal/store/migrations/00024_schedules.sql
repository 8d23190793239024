-- Schedules (issue 13): the sessions of the competency test and the interview, the
-- assignment of each active application to one session per stage, and attachments of
-- notifications (the .ics of an invitation).
--
-- An assignment's ID is the UID of its calendar event and its sequence the event's
-- SEQUENCE: it grows on every change (a move, a changed session), so calendars replace the
-- entry. Attachments live in their own table so that claiming the outbox never reads them.

-- +goose Up
CREATE TABLE schedule_sessions (
    id           TEXT      NOT NULL PRIMARY KEY,
    selection_id TEXT      NOT NULL REFERENCES selections (id),
    stage        TEXT      NOT NULL,
    starts_at    TIMESTAMP NOT NULL,
    ends_at      TIMESTAMP NOT NULL,
    venue        TEXT      NOT NULL DEFAULT '',
    meeting_url  TEXT      NOT NULL DEFAULT '',
    capacity     INTEGER   NOT NULL,
    request_id   TEXT      NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX schedule_sessions_request ON schedule_sessions (selection_id, request_id);
-- Sessions of a stage in time order: the order they are filled and listed in.
CREATE INDEX schedule_sessions_stage ON schedule_sessions (selection_id, stage, starts_at, id);

CREATE TABLE schedule_assignments (
    id                TEXT      NOT NULL PRIMARY KEY,
    selection_id      TEXT      NOT NULL REFERENCES selections (id),
    stage             TEXT      NOT NULL,
    application_id    TEXT      NOT NULL REFERENCES applications (id),
    session_id        TEXT      NOT NULL REFERENCES schedule_sessions (id),
    sequence          INTEGER   NOT NULL DEFAULT 0,
    status            TEXT      NOT NULL,
    reason            TEXT      NOT NULL DEFAULT '',
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL
);
-- One session per application and stage.
CREATE UNIQUE INDEX schedule_assignments_application ON schedule_assignments (selection_id, stage, application_id);
CREATE INDEX schedule_assignments_session ON schedule_assignments (session_id, application_id);

CREATE TABLE notification_attachments (
    notification_id TEXT NOT NULL PRIMARY KEY REFERENCES notifications (id),
    name            TEXT NOT NULL,
    media_type      TEXT NOT NULL,
    content         TEXT NOT NULL
);

-- +goose Down
DROP TABLE notification_attachments;
DROP TABLE schedule_assignments;
DROP TABLE schedule_sessions;
