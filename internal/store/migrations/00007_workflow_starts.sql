-- The workflow start of each selection, written in the same transaction as the selection
-- (a transactional outbox): the API starts the workflow right after the commit and marks the
-- row started; when the process dies in between, the reconciler (internal/reconcile) finds
-- the row unstarted and starts the workflow from the input recorded here. Selections created
-- before this table existed started their workflow in the creating request and have no row.

-- +goose Up
CREATE TABLE workflow_starts (
    selection_id TEXT      NOT NULL PRIMARY KEY REFERENCES selections (id),
    workflow_id  TEXT      NOT NULL,
    -- The workflow's input (workflows.SelectionInput as JSON), exactly as the API built it.
    input        TEXT      NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    started_at   TIMESTAMP NULL
);
-- The reconciler reads only unstarted rows, oldest first.
CREATE INDEX workflow_starts_pending ON workflow_starts (created_at, selection_id) WHERE started_at IS NULL;

-- +goose Down
DROP INDEX workflow_starts_pending;
DROP TABLE workflow_starts;
