-- Sessions of the web application (issue 12), kept in the database so that any API replica
-- serves any signed-in person. token is the SHA-256 of the cookie's value (hex), never the
-- value itself, so reading the table does not let anyone take over a session; data is the
-- session's encoded values (base64), expiry the absolute end after which the row is dead and
-- swept.

-- +goose Up
CREATE TABLE web_sessions (
    token  TEXT      NOT NULL PRIMARY KEY,
    data   TEXT      NOT NULL,
    expiry TIMESTAMP NOT NULL
);
CREATE INDEX web_sessions_expiry ON web_sessions (expiry);

-- +goose Down
DROP TABLE web_sessions;
