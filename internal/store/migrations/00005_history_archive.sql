-- The durable archive of closed workflow runs. Temporal deletes a closed run's history once
-- the namespace retention passes; every closed run (completed, continued as new, failed,
-- terminated, cancelled or timed out) is copied here first, so that export, replay and
-- verification still work years later. Each archived run is also recorded in the
-- selection's audit chain (HistoryArchived, with the history's SHA-256), so the archive
-- cannot be rewritten without breaking the chain.

-- +goose Up
CREATE TABLE history_archive (
    selection_id   TEXT      NOT NULL REFERENCES selections (id),
    workflow_id    TEXT      NOT NULL,
    run_id         TEXT      NOT NULL,
    start_time     TIMESTAMP NOT NULL,
    close_time     TIMESTAMP NOT NULL,
    close_status   TEXT      NOT NULL,
    -- Temporal's standard JSON form of the run's history (protojson of History).
    history        TEXT      NOT NULL,
    history_sha256 TEXT      NOT NULL,
    archived_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (workflow_id, run_id)
);
-- Runs are read per selection in the order they ran: continue-as-new starts each run after
-- its predecessor closed, so the start time orders them.
CREATE INDEX history_archive_selection ON history_archive (selection_id, start_time, run_id);

-- +goose Down
DROP INDEX history_archive_selection;
DROP TABLE history_archive;
