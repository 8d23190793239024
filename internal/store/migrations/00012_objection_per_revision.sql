-- One objection per application per objection window of a stage: a chair's correction
-- publishes a revision that a candidate may object to again, under its own ID
-- ("<STAGE>-r<N>:<application>", see workflows.ObjectionRevisionID), so application and stage
-- no longer identify one objection. The primary key (selection_id, id) keeps one row per
-- objection; the workflow enforces one objection per window. The index stays for lookups.

-- +goose Up
DROP INDEX objections_application_stage;
CREATE INDEX objections_application_stage ON objections (selection_id, application_id, stage);

-- +goose Down
DROP INDEX objections_application_stage;
CREATE UNIQUE INDEX objections_application_stage ON objections (selection_id, application_id, stage);
