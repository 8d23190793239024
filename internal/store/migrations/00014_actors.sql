-- People as Seleksi records them. Every person acting through the API is known by an opaque
-- actor ID, one per (issuer, subject) of their tokens. Workflow histories, audit events,
-- application owners, the store's projections and the logs carry the ID; the subject (often
-- a NIP) stays here, with the rest of the personal data, and the API shows it again to those
-- allowed to see it. Records made before this table hold the subject itself, and so do the
-- workflows of selections created before it: those selections (actor_ids false) go on naming
-- people by subject, so that their committees and candidates are still recognised.

-- +goose Up
ALTER TABLE selections ADD COLUMN actor_ids BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE actors (
    id         TEXT      NOT NULL PRIMARY KEY,
    issuer     TEXT      NOT NULL,
    subject    TEXT      NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX actors_identity ON actors (issuer, subject);

-- +goose Down
DROP INDEX actors_identity;
DROP TABLE actors;
ALTER TABLE selections DROP COLUMN actor_ids;
