-- A candidate's notification list (ListNotifications with an owner: recipient = ?, in
-- created_at, id order, paged by keyset) used to scan the whole outbox; this index serves the
-- filter and the order.
--
-- A NIP is unique per issuer only among the accounts that hold it for sure: confirmed ones,
-- and the staff accounts the secretariat made (it vouches for them). A candidate's
-- unconfirmed registration no longer blocks the NIP's real owner (internal/store's
-- CreateAccount and UseAccountCode clear the NIP of unconfirmed candidates when an account
-- claims it). Down clears the NIP of the unclaimed accounts that share one, so that the
-- plain unique index can be made again.

-- +goose Up
CREATE INDEX notifications_recipient ON notifications (recipient, created_at, id);
DROP INDEX accounts_nip;
CREATE UNIQUE INDEX accounts_nip ON accounts (issuer, nip) WHERE nip <> '' AND (email_confirmed OR role <> 'candidate');
CREATE INDEX accounts_nip_any ON accounts (issuer, nip);

-- +goose Down
DROP INDEX accounts_nip_any;
DROP INDEX accounts_nip;
UPDATE accounts SET nip = '' WHERE nip <> '' AND NOT (email_confirmed OR role <> 'candidate')
    AND EXISTS (SELECT 1 FROM accounts b WHERE b.issuer = accounts.issuer AND b.nip = accounts.nip AND b.id <> accounts.id);
CREATE UNIQUE INDEX accounts_nip ON accounts (issuer, nip) WHERE nip <> '';
DROP INDEX notifications_recipient;
