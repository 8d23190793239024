-- A candidate's notification list (ListNotifications with an owner: recipient = ?, in
-- created_at, id order, paged by keyset) used to scan the whole outbox; this index serves the
-- filter and the order.

-- +goose Up
CREATE INDEX notifications_recipient ON notifications (recipient, created_at, id);

-- +goose Down
DROP INDEX notifications_recipient;
