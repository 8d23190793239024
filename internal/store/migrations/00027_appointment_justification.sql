-- The PPK's written justification for choosing a name the committee did not rank first
-- (rank 2 or 3). It is published with the appointment, so it lives with the selection beside
-- the decree reference; it is part of the projection the audit compares with the history.

-- +goose Up
ALTER TABLE selections ADD COLUMN appointment_justification TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE selections DROP COLUMN appointment_justification;
