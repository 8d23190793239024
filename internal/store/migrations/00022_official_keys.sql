-- The public keys official documents are signed with, as the workers that sign register them
-- (official.Issuer, on its first round with a key). API replicas publish and check signatures
-- from here, so they need no private key and agree with every worker on which keys exist,
-- whichever keys folder each process has. A key is never removed: documents it signed stay
-- verifiable after a rotation.

-- +goose Up
CREATE TABLE official_keys (
    key_id      TEXT      NOT NULL PRIMARY KEY,
    algorithm   TEXT      NOT NULL,
    public_key  TEXT      NOT NULL,
    pem         TEXT      NOT NULL,
    create_time TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE official_keys;
