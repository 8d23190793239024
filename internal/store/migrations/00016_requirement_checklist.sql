-- The requirement checklist of administrative screening (issue 11): each application's items
-- (status, automatic proposal and finding, the committee's note, who verified it and when) as
-- the workflow last recorded them, as JSON; and the items an objection contests, the
-- clarifying document it attaches and the committee's answer to each item.

-- +goose Up
ALTER TABLE applications ADD COLUMN checklist TEXT NOT NULL DEFAULT '';
ALTER TABLE objections ADD COLUMN items TEXT NOT NULL DEFAULT '';
ALTER TABLE objections ADD COLUMN document TEXT NOT NULL DEFAULT '';
ALTER TABLE objections ADD COLUMN item_answers TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE objections DROP COLUMN item_answers;
ALTER TABLE objections DROP COLUMN document;
ALTER TABLE objections DROP COLUMN items;
ALTER TABLE applications DROP COLUMN checklist;
