-- The address each notification goes to, fixed when it is queued: the e-mail the candidate
-- gave in their application. The outbox is then the record of whom the service told, at
-- which address, and delivery needs no second look-up that could find someone else (the
-- token subject, which may itself look like an address, or a row changed since). Rows queued
-- before this migration have no address and are looked up at delivery as before.

-- +goose Up
ALTER TABLE notifications ADD COLUMN email TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE notifications DROP COLUMN email;
