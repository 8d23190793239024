-- Attendance of scheduled sessions (issue 13): a candidate confirms they will come or asks
-- for another session with a reason, which the committee or the secretariat accepts (a move)
-- or refuses with a reason; after the session the committee records who came. Each stage's
-- schedule says what absence does: only recorded (the default) or eliminate the candidate
-- through the workflow.

-- +goose Up
ALTER TABLE schedule_assignments ADD COLUMN confirmed_at TIMESTAMP NULL;
ALTER TABLE schedule_assignments ADD COLUMN reschedule_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE schedule_assignments ADD COLUMN refusal_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE schedule_assignments ADD COLUMN attendance TEXT NOT NULL DEFAULT '';
-- The secretariat's list of pending reschedule requests.
CREATE INDEX schedule_assignments_status ON schedule_assignments (selection_id, stage, status);

CREATE TABLE schedule_stage_settings (
    selection_id TEXT      NOT NULL REFERENCES selections (id),
    stage        TEXT      NOT NULL,
    absence      TEXT      NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (selection_id, stage)
);

-- +goose Down
DROP TABLE schedule_stage_settings;
DROP INDEX schedule_assignments_status;
ALTER TABLE schedule_assignments DROP COLUMN attendance;
ALTER TABLE schedule_assignments DROP COLUMN refusal_reason;
ALTER TABLE schedule_assignments DROP COLUMN reschedule_reason;
ALTER TABLE schedule_assignments DROP COLUMN confirmed_at;
