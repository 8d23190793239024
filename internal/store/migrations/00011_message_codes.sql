-- Message codes: the workflow records what people are told as a code with parameters (JSON
-- {"code", "params", "detail"}), rendered in the reader's language only when shown or sent.
-- Rows written before keep their rendered texts in the older columns, which stay for them.

-- +goose Up
ALTER TABLE applications ADD COLUMN status_message TEXT NOT NULL DEFAULT '';
ALTER TABLE applications ADD COLUMN elimination_message TEXT NOT NULL DEFAULT '';
ALTER TABLE application_results ADD COLUMN reason_message TEXT NOT NULL DEFAULT '';
ALTER TABLE stage_results ADD COLUMN revision_message TEXT NOT NULL DEFAULT '';
ALTER TABLE selections ADD COLUMN cancel_message TEXT NOT NULL DEFAULT '';
ALTER TABLE notifications ADD COLUMN message TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE notifications DROP COLUMN message;
ALTER TABLE selections DROP COLUMN cancel_message;
ALTER TABLE stage_results DROP COLUMN revision_message;
ALTER TABLE application_results DROP COLUMN reason_message;
ALTER TABLE applications DROP COLUMN elimination_message;
ALTER TABLE applications DROP COLUMN status_message;
