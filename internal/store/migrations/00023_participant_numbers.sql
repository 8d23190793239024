-- Participant numbers (issue 13): each application gets, when it is submitted, the next
-- sequence of its selection and the number rendered from it in the agency's format. The
-- number is stored as rendered, so a later change of the format never changes a number
-- already printed on a proof of registration. Sequences are never reused: a withdrawn
-- application keeps its number.
--
-- Applications submitted before this migration get their sequence in submission order and
-- no rendered number (the format is a deployment setting the database does not know); pages
-- show them without one.

-- +goose Up
ALTER TABLE applications ADD COLUMN participant_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE applications ADD COLUMN participant_number TEXT NOT NULL DEFAULT '';
UPDATE applications SET participant_seq = (
    SELECT COUNT(*) FROM applications b
    WHERE b.selection_id = applications.selection_id
      AND (b.submitted_at < applications.submitted_at OR (b.submitted_at = applications.submitted_at AND b.id <= applications.id))
);
-- Unique per selection; also the participant-number order of lists and of session assignment.
CREATE UNIQUE INDEX applications_selection_participant ON applications (selection_id, participant_seq);
CREATE UNIQUE INDEX applications_selection_participant_number ON applications (selection_id, participant_number) WHERE participant_number <> '';

-- +goose Down
DROP INDEX applications_selection_participant_number;
DROP INDEX applications_selection_participant;
ALTER TABLE applications DROP COLUMN participant_number;
ALTER TABLE applications DROP COLUMN participant_seq;
