-- Documents candidates upload to Seleksi, and the record of every access to them.
--
-- A document is one uploaded file of one candidate (owner: their actor ID) for one selection,
-- of one kind: a required document of the selection, or the reserved kind 'objection' for an
-- attachment to an objection. The bytes live in document storage under blob_key, which is
-- derived from the content's SHA-256, never from personal data; the row keeps what the server
-- found (the sniffed media type, size, digest, pages), not what the client claimed. The row's
-- life: 'uploaded'; 'attached' once an application (application_id) references it, from
-- attach_time, and frozen at the announcement close (freeze_time), after which it may no
-- longer be replaced; 'erased' after the retention (erase_time), when the bytes are gone and
-- the digest stays for the audit.
--
-- document_accesses records who read which document when and why (purpose 'metadata' or
-- 'download'): accountability for personal data under UU 27/2022 (PDP). Each access is also
-- an audit event in the selection's chain (audit_seq), which makes deleting a record
-- detectable.

-- +goose Up
CREATE TABLE documents (
    id             TEXT      NOT NULL PRIMARY KEY,
    selection_id   TEXT      NOT NULL REFERENCES selections (id),
    owner          TEXT      NOT NULL,
    kind           TEXT      NOT NULL,
    -- upload_id is the resumable upload that produced the document: creating the document
    -- again for it (a retried final request) finds the first row.
    upload_id      TEXT      NOT NULL,
    file_name      TEXT      NOT NULL,
    media_type     TEXT      NOT NULL,
    size_bytes     BIGINT    NOT NULL,
    sha256         TEXT      NOT NULL,
    pages          INTEGER   NOT NULL DEFAULT 0,
    blob_key       TEXT      NOT NULL,
    state          TEXT      NOT NULL,
    application_id TEXT      NULL REFERENCES applications (id),
    create_time    TIMESTAMP NOT NULL,
    attach_time    TIMESTAMP NULL,
    freeze_time    TIMESTAMP NULL,
    erase_time     TIMESTAMP NULL
);
CREATE UNIQUE INDEX documents_upload ON documents (upload_id);
-- A candidate's documents in a selection, listed by creation: every list filter starts with
-- the selection, and keyset pages end in the ID.
CREATE INDEX documents_selection_owner ON documents (selection_id, owner, create_time, id);
CREATE INDEX documents_selection_created ON documents (selection_id, create_time, id);
CREATE INDEX documents_application ON documents (application_id);
-- Retention finds erasable documents by state; storage finds the rows sharing one blob.
CREATE INDEX documents_blob ON documents (blob_key);

CREATE TABLE document_accesses (
    id           TEXT      NOT NULL PRIMARY KEY,
    document_id  TEXT      NOT NULL REFERENCES documents (id),
    selection_id TEXT      NOT NULL REFERENCES selections (id),
    actor        TEXT      NOT NULL,
    role         TEXT      NOT NULL,
    purpose      TEXT      NOT NULL,
    access_time  TIMESTAMP NOT NULL,
    audit_seq    BIGINT    NOT NULL
);
CREATE INDEX document_accesses_document ON document_accesses (document_id, access_time, id);

-- +goose Down
DROP INDEX document_accesses_document;
DROP TABLE document_accesses;
DROP INDEX documents_blob;
DROP INDEX documents_application;
DROP INDEX documents_selection_created;
DROP INDEX documents_selection_owner;
DROP INDEX documents_upload;
DROP TABLE documents;
