-- A selection never ends in failure: when a step the workflow makes by itself cannot be
-- made, the selection is blocked and retries. The workflow projects that state here, so that
-- the API shows it with the selection (reason code, step, since, attempts, next attempt).
-- It is operational state, not a fact of the process: it is not part of the audit chain.

-- +goose Up
ALTER TABLE selections ADD COLUMN blocked_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE selections ADD COLUMN blocked_step TEXT NOT NULL DEFAULT '';
ALTER TABLE selections ADD COLUMN blocked_year INTEGER NOT NULL DEFAULT 0;
ALTER TABLE selections ADD COLUMN blocked_since TIMESTAMP NULL;
ALTER TABLE selections ADD COLUMN blocked_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE selections ADD COLUMN blocked_next_attempt TIMESTAMP NULL;

-- +goose Down
ALTER TABLE selections DROP COLUMN blocked_next_attempt;
ALTER TABLE selections DROP COLUMN blocked_attempts;
ALTER TABLE selections DROP COLUMN blocked_since;
ALTER TABLE selections DROP COLUMN blocked_year;
ALTER TABLE selections DROP COLUMN blocked_step;
ALTER TABLE selections DROP COLUMN blocked_reason;
