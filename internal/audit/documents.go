package audit

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// actionDocumentUploaded is the store's audit action for a finished upload
// (store.ActionDocumentUploaded; this package does not link the store). Its payload carries
// the document's ID, kind, media type, size and SHA-256 as the server computed them.
const actionDocumentUploaded = "DocumentUploaded"

// actionDocumentReplaced is the store's audit action for a document replaced before the
// close (store.ActionDocumentReplaced), whose payload names both documents and digests.
const actionDocumentReplaced = "DocumentReplaced"

// uploadPayload is what CheckDocuments reads of an upload's audit event.
type uploadPayload struct {
	DocumentID string `json:"documentId"`
	Kind       string `json:"kind"`
	MediaType  string `json:"mediaType"`
	SizeBytes  int64  `json:"sizeBytes"`
	SHA256     string `json:"sha256"`
}

// CheckDocuments compares the documents a bundle describes with the uploads the audit chain
// records: every document must have its upload event, with the same kind, media type, size
// and digest. The chain is verified on its own (CheckChain), so a digest that agrees with
// it is the one the server computed when the file arrived. A bundle without a documents
// part (docs nil) is not checked.
func CheckDocuments(events []AuditEvent, docs []DocumentDigest) []Finding {
	if docs == nil {
		return nil
	}
	uploads := map[string]uploadPayload{}
	seqs := map[string]int64{}
	for _, e := range events {
		if e.Action != actionDocumentUploaded {
			continue
		}
		var p uploadPayload
		if json.Unmarshal(e.Payload, &p) != nil || p.DocumentID == "" {
			continue // an event without its payload proves nothing here; CheckChain checks it
		}
		uploads[p.DocumentID], seqs[p.DocumentID] = p, e.Seq
	}
	var fs []Finding
	for _, d := range docs {
		p, ok := uploads[d.DocumentID]
		if !ok {
			fs = append(fs, Finding{Kind: KindDocumentMismatch, Part: DocumentsPart,
				Message: fmt.Sprintf("document %s has no upload event in the audit chain", d.DocumentID)})
			continue
		}
		var diffs []string
		if p.SHA256 != d.SHA256 {
			diffs = append(diffs, fmt.Sprintf("SHA-256 %s, the upload recorded %s", short(d.SHA256), short(p.SHA256)))
		}
		if p.SizeBytes != d.SizeBytes {
			diffs = append(diffs, fmt.Sprintf("%d bytes, the upload recorded %d", d.SizeBytes, p.SizeBytes))
		}
		if p.Kind != d.Kind {
			diffs = append(diffs, fmt.Sprintf("kind %s, the upload recorded %s", d.Kind, p.Kind))
		}
		if p.MediaType != d.MediaType {
			diffs = append(diffs, fmt.Sprintf("media type %s, the upload recorded %s", d.MediaType, p.MediaType))
		}
		if len(diffs) > 0 {
			fs = append(fs, Finding{Kind: KindDocumentMismatch, Part: DocumentsPart, Seqs: []int64{seqs[d.DocumentID]},
				Message: fmt.Sprintf("document %s: %s", d.DocumentID, strings.Join(diffs, "; "))})
		}
	}
	return fs
}

// DocumentsWithDigest returns the documents a bundle describes whose content has the given
// SHA-256 (lower-case hex), in the bundle's order: the same file may have been uploaded more
// than once.
func DocumentsWithDigest(docs []DocumentDigest, sha256 string) []DocumentDigest {
	sha256 = strings.ToLower(sha256)
	var out []DocumentDigest
	for _, d := range docs {
		if d.SHA256 == sha256 {
			out = append(out, d)
		}
	}
	return slices.Clip(out)
}
