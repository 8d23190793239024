-- Singletons across replicas (issue 14): background loops that must run once per deployment
-- take a named lease (holder and expiry, a row here, so that it works on SQLite and
-- PostgreSQL alike), and the history archiver keeps the close time up to which it has
-- archived every closed run, so that a pass lists only the runs closed since.

-- +goose Up
CREATE TABLE leases (
    name        TEXT      NOT NULL PRIMARY KEY,
    -- Who holds the lease ('' when released) and until when; a holder that dies simply
    -- stops renewing, and the lease is free once expires_at has passed.
    holder      TEXT      NOT NULL DEFAULT '',
    expires_at  TIMESTAMP NULL,
    -- Fencing token: it grows by one whenever another holder takes the lease, so a holder
    -- that lost it (paused past its expiry) cannot write as if it still held it.
    token       BIGINT    NOT NULL DEFAULT 0,
    acquired_at TIMESTAMP NULL,
    updated_at  TIMESTAMP NOT NULL
);

CREATE TABLE archive_watermarks (
    -- What is archived: the workflow type whose closed runs the archiver copies.
    name         TEXT      NOT NULL PRIMARY KEY,
    -- Every closed run visibility listed with a close time up to this one is archived.
    close_time   TIMESTAMP NOT NULL,
    -- When the last pass that listed every closed run within the retention (not only those
    -- after the watermark) completed.
    full_scan_at TIMESTAMP NULL,
    -- When the last pass completed its listing.
    pass_at      TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE archive_watermarks;
DROP TABLE leases;
