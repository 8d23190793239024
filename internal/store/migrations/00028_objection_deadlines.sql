-- Each objection's answer deadline as the workflow keeps it with a timer: answer_due is set
-- when the committee is reminded (or, failing that, when it is escalated), overdue when it
-- passed unanswered and the chair and the secretariat were told. The API shows both to the
-- secretariat; the index serves a selection's overdue objections.

-- +goose Up
ALTER TABLE objections ADD COLUMN answer_due TIMESTAMP NULL;
ALTER TABLE objections ADD COLUMN overdue BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX objections_overdue ON objections (selection_id, overdue);

-- +goose Down
DROP INDEX objections_overdue;
ALTER TABLE objections DROP COLUMN overdue;
ALTER TABLE objections DROP COLUMN answer_due;
