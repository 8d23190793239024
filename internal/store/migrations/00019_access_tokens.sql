-- Personal access tokens (issue 12): what a person with an account gives seleksictl and their
-- scripts instead of a password. The secret is shown once when the token is made and never
-- stored: secret_hash is the SHA-256 of the secret (hex), which is how a presented token is
-- found. Every token expires (expires_at is required); revoked_at ends it early. The rows of
-- revoked and expired tokens are kept: when a token was last used is evidence.

-- +goose Up
CREATE TABLE access_tokens (
    id           TEXT      NOT NULL PRIMARY KEY,
    account_id   TEXT      NOT NULL REFERENCES accounts (id),
    name         TEXT      NOT NULL,
    secret_hash  TEXT      NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP NULL,
    revoked_at   TIMESTAMP NULL
);
CREATE UNIQUE INDEX access_tokens_secret ON access_tokens (secret_hash);
CREATE INDEX access_tokens_account ON access_tokens (account_id, created_at);

-- +goose Down
DROP TABLE access_tokens;
