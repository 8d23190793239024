-- Notifications reach people on the channels they chose (issue 13). Each outbox row is now one
-- delivery on one channel: EMAIL (the row the candidate's in-app list shows, mailed), IN_APP
-- (shown in the list, nothing to send: the candidate turned e-mail off) or WEBHOOK (the same
-- message posted to the agency's WhatsApp/SMS gateway, to address, a phone number). A channel
-- row is leased, retried and dead-lettered on its own, so a webhook outage never sends the
-- e-mail again. Rows queued before keep EMAIL, which is what they were.
--
-- notification_preferences: a person's choice of channels, by token subject (the outbox's
-- recipient). No row: e-mail on, webhook off. In-app is always on and has no column.

-- +goose Up
ALTER TABLE notifications ADD COLUMN channel TEXT NOT NULL DEFAULT 'EMAIL';
ALTER TABLE notifications ADD COLUMN address TEXT NOT NULL DEFAULT '';
CREATE TABLE notification_preferences (
    subject    TEXT      NOT NULL PRIMARY KEY,
    email      BOOLEAN   NOT NULL DEFAULT TRUE,
    webhook    BOOLEAN   NOT NULL DEFAULT FALSE,
    phone      TEXT      NOT NULL DEFAULT '',
    updated_at TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE notification_preferences;
DELETE FROM notifications WHERE channel = 'WEBHOOK';
ALTER TABLE notifications DROP COLUMN address;
ALTER TABLE notifications DROP COLUMN channel;
