-- The outbox that never jams. A notification is PENDING until it is SENT, or DEAD once its
-- attempts run out; only pending rows whose next_attempt_at has passed are tried, each
-- failure putting its row further back (exponential backoff), so failing rows no longer fill
-- every batch and hide the rows behind them. A dispatcher leases the rows it is about to send
-- (lease_owner, lease_until), so two dispatchers never send the same row, and the rows of a
-- dispatcher that died are taken up again when its lease runs out.
--
-- Claims take due rows in the order they fell due (a new row at its creation, a failed one at
-- its next attempt), so that rows failing again and again never starve rows not yet tried.
--
-- Rows still unsent keep their last error but start their attempts again: before this
-- migration a failing row was retried every two seconds without backoff, so its count says
-- how long an outage lasted in seconds, not that the message cannot be delivered.

-- +goose Up
ALTER TABLE notifications ADD COLUMN state TEXT NOT NULL DEFAULT 'NOTIFICATION_STATE_PENDING';
ALTER TABLE notifications ADD COLUMN next_attempt_at TIMESTAMP NULL;
ALTER TABLE notifications ADD COLUMN last_attempt_at TIMESTAMP NULL;
ALTER TABLE notifications ADD COLUMN dead_at TIMESTAMP NULL;
ALTER TABLE notifications ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE notifications ADD COLUMN lease_until TIMESTAMP NULL;
UPDATE notifications SET state = 'NOTIFICATION_STATE_SENT' WHERE sent_at IS NOT NULL;
UPDATE notifications SET attempts = 0 WHERE sent_at IS NULL;
DROP INDEX notifications_pending;
CREATE INDEX notifications_state ON notifications (state, created_at, id);
-- The order of a claim (store.dueOrder): when each row fell due.
CREATE INDEX notifications_due ON notifications (state, (COALESCE(next_attempt_at, created_at)), id);

-- +goose Down
DROP INDEX notifications_due;
DROP INDEX notifications_state;
CREATE INDEX notifications_pending ON notifications (sent_at, created_at, id);
ALTER TABLE notifications DROP COLUMN lease_until;
ALTER TABLE notifications DROP COLUMN lease_owner;
ALTER TABLE notifications DROP COLUMN dead_at;
ALTER TABLE notifications DROP COLUMN last_attempt_at;
ALTER TABLE notifications DROP COLUMN next_attempt_at;
ALTER TABLE notifications DROP COLUMN state;
