-- Local accounts of the embedded default (internal/accounts), the one-time codes that reach
-- their owners by e-mail, and the committee seats that give committee accounts their rights.
--
-- accounts: one row per person who signs in, local (password) or through an OIDC provider
-- (no password); (issuer, subject) is what the person's tokens and sessions carry. E-mail and
-- NIP are unique per issuer when present. failed_sign_ins counts consecutive failures; after
-- too many the account is locked until locked_until, and locks counts the locks since the
-- last success so that each further lock lasts longer.
--
-- account_codes: codes sent by e-mail (confirm an address, reset a password) and the setup
-- code printed at first start (account_id ''). Only a salted hash is stored. A code is live
-- while used_at is NULL, expires_at has not passed and attempts is below the maximum; issuing
-- a new code of the same purpose marks the older ones used.
--
-- committee_seats: a committee account's seat on a selection's committee.
--
-- The notification outbox loses its foreign key to selections: account codes are mailed
-- through it and belong to no selection (selection_id ''). SQLite cannot drop a constraint,
-- so the table is rebuilt, the same way on both databases.

-- +goose Up
CREATE TABLE accounts (
    id              TEXT      NOT NULL PRIMARY KEY,
    issuer          TEXT      NOT NULL,
    subject         TEXT      NOT NULL,
    role            TEXT      NOT NULL,
    full_name       TEXT      NOT NULL DEFAULT '',
    nip             TEXT      NOT NULL DEFAULT '',
    email           TEXT      NOT NULL DEFAULT '',
    lang            TEXT      NOT NULL DEFAULT 'id',
    password_hash   TEXT      NOT NULL DEFAULT '',
    email_confirmed BOOLEAN   NOT NULL DEFAULT FALSE,
    disabled        BOOLEAN   NOT NULL DEFAULT FALSE,
    failed_sign_ins INTEGER   NOT NULL DEFAULT 0,
    locks           INTEGER   NOT NULL DEFAULT 0,
    locked_until    TIMESTAMP NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX accounts_identity ON accounts (issuer, subject);
CREATE UNIQUE INDEX accounts_email ON accounts (issuer, email) WHERE email <> '';
CREATE UNIQUE INDEX accounts_nip ON accounts (issuer, nip) WHERE nip <> '';
CREATE INDEX accounts_role ON accounts (role, created_at, id);

CREATE TABLE account_codes (
    id         TEXT      NOT NULL PRIMARY KEY,
    account_id TEXT      NOT NULL DEFAULT '',
    purpose    TEXT      NOT NULL,
    salt       TEXT      NOT NULL,
    hash       TEXT      NOT NULL,
    attempts   INTEGER   NOT NULL DEFAULT 0,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX account_codes_owner ON account_codes (account_id, purpose, created_at);

CREATE TABLE committee_seats (
    selection_id   TEXT      NOT NULL REFERENCES selections (id),
    account_id     TEXT      NOT NULL REFERENCES accounts (id),
    member_subject TEXT      NOT NULL,
    linked_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (selection_id, account_id)
);
CREATE INDEX committee_seats_account ON committee_seats (account_id, selection_id);

CREATE TABLE notifications_new (
    id              TEXT      NOT NULL PRIMARY KEY,
    selection_id    TEXT      NOT NULL,
    recipient       TEXT      NOT NULL,
    application_id  TEXT      NOT NULL DEFAULT '',
    kind            TEXT      NOT NULL,
    code            TEXT      NOT NULL DEFAULT '',
    text_en         TEXT      NOT NULL DEFAULT '',
    text_id         TEXT      NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL,
    attempts        INTEGER   NOT NULL DEFAULT 0,
    last_error      TEXT      NOT NULL DEFAULT '',
    sent_at         TIMESTAMP NULL,
    email           TEXT      NOT NULL DEFAULT '',
    message         TEXT      NOT NULL DEFAULT '',
    state           TEXT      NOT NULL DEFAULT 'NOTIFICATION_STATE_PENDING',
    next_attempt_at TIMESTAMP NULL,
    last_attempt_at TIMESTAMP NULL,
    dead_at         TIMESTAMP NULL,
    lease_owner     TEXT      NOT NULL DEFAULT '',
    lease_until     TIMESTAMP NULL
);
INSERT INTO notifications_new (id, selection_id, recipient, application_id, kind, code, text_en, text_id, created_at,
    attempts, last_error, sent_at, email, message, state, next_attempt_at, last_attempt_at, dead_at, lease_owner, lease_until)
SELECT id, selection_id, recipient, application_id, kind, code, text_en, text_id, created_at,
    attempts, last_error, sent_at, email, message, state, next_attempt_at, last_attempt_at, dead_at, lease_owner, lease_until
FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;
CREATE INDEX notifications_state ON notifications (state, created_at, id);
CREATE INDEX notifications_due ON notifications (state, (COALESCE(next_attempt_at, created_at)), id);

-- +goose Down
DELETE FROM notifications WHERE selection_id NOT IN (SELECT id FROM selections);
CREATE TABLE notifications_old (
    id              TEXT      NOT NULL PRIMARY KEY,
    selection_id    TEXT      NOT NULL REFERENCES selections (id),
    recipient       TEXT      NOT NULL,
    application_id  TEXT      NOT NULL DEFAULT '',
    kind            TEXT      NOT NULL,
    code            TEXT      NOT NULL DEFAULT '',
    text_en         TEXT      NOT NULL DEFAULT '',
    text_id         TEXT      NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL,
    attempts        INTEGER   NOT NULL DEFAULT 0,
    last_error      TEXT      NOT NULL DEFAULT '',
    sent_at         TIMESTAMP NULL,
    email           TEXT      NOT NULL DEFAULT '',
    message         TEXT      NOT NULL DEFAULT '',
    state           TEXT      NOT NULL DEFAULT 'NOTIFICATION_STATE_PENDING',
    next_attempt_at TIMESTAMP NULL,
    last_attempt_at TIMESTAMP NULL,
    dead_at         TIMESTAMP NULL,
    lease_owner     TEXT      NOT NULL DEFAULT '',
    lease_until     TIMESTAMP NULL
);
INSERT INTO notifications_old SELECT id, selection_id, recipient, application_id, kind, code, text_en, text_id, created_at,
    attempts, last_error, sent_at, email, message, state, next_attempt_at, last_attempt_at, dead_at, lease_owner, lease_until
FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_old RENAME TO notifications;
CREATE INDEX notifications_state ON notifications (state, created_at, id);
CREATE INDEX notifications_due ON notifications (state, (COALESCE(next_attempt_at, created_at)), id);
DROP TABLE committee_seats;
DROP TABLE account_codes;
DROP TABLE accounts;
