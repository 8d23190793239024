-- The processed-commands ledger also keeps, for each command a caller sent, the digest of its
-- arguments and the answer the caller got. Temporal forgets an Update ID when the workflow
-- continues as new; with these the API answers a retried request_id with the first answer in
-- every run, and refuses the same request_id reused for different content. Rows written
-- before this migration have neither (empty): the API then asks the workflow as before.

--
-- An application's competency-test result also keeps the assessment center's category
-- (meets, still meets, does not meet), which the committee records with the score sheet and
-- the candidate reads with the result; empty for other stages and for results published
-- before it was kept.

--
-- Under a time scale (demonstrations and tests) the selection's clock runs faster than the
-- wall clock; a selection also keeps the wall-clock instants of its stage's opening and of
-- the announcement window's opening (the close already had one), so that views give every
-- instant in both clocks. Empty in rows written before.

-- +goose Up
ALTER TABLE selections ADD COLUMN stage_opened_wall TIMESTAMP NULL;
ALTER TABLE selections ADD COLUMN window_opens_wall TIMESTAMP NULL;
ALTER TABLE processed_commands ADD COLUMN args_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE processed_commands ADD COLUMN answer TEXT NOT NULL DEFAULT '';
ALTER TABLE application_results ADD COLUMN competency_category TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE selections DROP COLUMN window_opens_wall;
ALTER TABLE selections DROP COLUMN stage_opened_wall;
ALTER TABLE application_results DROP COLUMN competency_category;
ALTER TABLE processed_commands DROP COLUMN answer;
ALTER TABLE processed_commands DROP COLUMN args_sha256;
