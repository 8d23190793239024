package store

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

func newDocument(selectionID, owner, kind, upload string, at time.Time) NewDocument {
	digest := sha256Hex([]byte(upload))
	return NewDocument{
		SelectionID: selectionID, Owner: owner, Kind: kind, UploadID: upload, FileName: kind + ".pdf",
		MediaType: "application/pdf", SizeBytes: 1234, SHA256: digest, Pages: 2,
		BlobKey: "sha256/" + digest[:2] + "/" + digest, RequireOpenWindow: true, Now: at,
	}
}

// testDocuments: creating a document records it with an opaque ID and its audit event (with
// the digest, without the file name); a retried upload finds its first document; the window
// is checked when asked; lists scope by selection, owner and application and page with
// authenticated tokens; missing rows are ErrNotFound.
func testDocuments(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	openWindow(t, s, "sel-doc")
	newSelection(t, s, "sel-closed") // no window projected: intake is not open
	at := t0.Add(time.Hour)

	in := newDocument("sel-doc", "act-owner1", "ijazah", "upload-1", at)
	in.FileName = "Ijazah Budi Santoso.pdf"
	doc, err := s.CreateDocument(ctx, in)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if !regexp.MustCompile(`^doc-[a-z2-7]{16}$`).MatchString(doc.ID) {
		t.Fatalf("document ID %q is not opaque doc-<base32>", doc.ID)
	}
	if doc.State != DocumentStateUploaded || doc.SHA256 != in.SHA256 || doc.SizeBytes != 1234 || doc.Pages != 2 ||
		doc.ApplicationID != "" || !doc.CreateTime.Equal(at) || !doc.AttachTime.IsZero() || !doc.EraseTime.IsZero() {
		t.Fatalf("created = %+v", doc)
	}
	got, err := s.GetDocument(ctx, doc.ID)
	if err != nil || got != doc {
		t.Fatalf("get = %+v, %v; want %+v", got, err, doc)
	}
	// The audit event names the document and its digest, never the file name.
	events, err := s.ListAuditEvents(ctx, "sel-doc", ListOptions{Filter: `action = "` + ActionDocumentUploaded + `"`})
	if err != nil || len(events.Items) != 1 {
		t.Fatalf("upload events: %+v, %v", events.Items, err)
	}
	ev := events.Items[0]
	if ev.Target != "documents/"+doc.ID || ev.ActorSubject != "act-owner1" || ev.Role != "ROLE_CANDIDATE" ||
		!strings.Contains(string(ev.Payload), in.SHA256) || strings.Contains(string(ev.Payload), "Budi") {
		t.Fatalf("upload event = %+v payload %s", ev, ev.Payload)
	}

	// A retried final request for the same upload returns the first document and adds no
	// event; the same upload with other content conflicts.
	again, err := s.CreateDocument(ctx, in)
	if err != nil || again.ID != doc.ID {
		t.Fatalf("retry = %+v, %v", again, err)
	}
	if n := count(t, s, "audit_events", "selection_id = ? AND action = ?", "sel-doc", ActionDocumentUploaded); n != 1 {
		t.Fatalf("%d upload events after a retry", n)
	}
	other := in
	other.SHA256 = strings.Repeat("b", 64)
	if _, err := s.CreateDocument(ctx, other); !errors.Is(err, ErrConflict) {
		t.Fatalf("same upload, other content: %v, want ErrConflict", err)
	}

	for _, tc := range []struct {
		name string
		edit func(*NewDocument)
		want error
	}{
		{"window not open", func(d *NewDocument) { d.SelectionID = "sel-closed" }, ErrFailedPrecondition},
		{"window closed", func(d *NewDocument) { d.Now = t0.Add(241 * time.Hour) }, ErrFailedPrecondition},
		{"no selection", func(d *NewDocument) { d.SelectionID = "sel-none" }, ErrNotFound},
		{"bad digest", func(d *NewDocument) { d.SHA256 = "ABC" }, ErrInvalidArgument},
		{"empty", func(d *NewDocument) { d.SizeBytes = 0 }, ErrInvalidArgument},
		{"no owner", func(d *NewDocument) { d.Owner = "" }, ErrInvalidArgument},
	} {
		d := newDocument("sel-doc", "act-owner1", "ijazah", "upload-"+tc.name, at)
		tc.edit(&d)
		if _, err := s.CreateDocument(ctx, d); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// Without the window check (an objection's attachment) a closed window does not matter.
	late := newDocument("sel-closed", "act-owner1", DocumentKindObjection, "upload-late", at)
	late.RequireOpenWindow = false
	if _, err := s.CreateDocument(ctx, late); err != nil {
		t.Fatalf("objection attachment: %v", err)
	}

	if _, err := s.GetDocument(ctx, "doc-missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get missing: %v", err)
	}

	// Lists: five more documents of owner2, one of owner1; owner2's are paged two at a time.
	for i := range 5 {
		if _, err := s.CreateDocument(ctx, newDocument("sel-doc", "act-owner2", "kind"+itoa(i), "upload-o2-"+itoa(i), at.Add(time.Duration(i)*time.Minute))); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.ListDocuments(ctx, DocumentFilter{SelectionID: "sel-doc"}, ListOptions{})
	if err != nil || len(all.Items) != 6 || all.TotalSize != 6 {
		t.Fatalf("list all: %d items, total %d, %v", len(all.Items), all.TotalSize, err)
	}
	var seen []string
	opts := ListOptions{PageSize: 2}
	for {
		page, err := s.ListDocuments(ctx, DocumentFilter{SelectionID: "sel-doc", Owner: "act-owner2"}, opts)
		if err != nil {
			t.Fatalf("page: %v", err)
		}
		if page.TotalSize != 5 {
			t.Fatalf("total %d, want 5", page.TotalSize)
		}
		for _, d := range page.Items {
			if d.Owner != "act-owner2" {
				t.Fatalf("owner2's list holds %+v", d)
			}
			seen = append(seen, d.Kind)
		}
		if page.NextPageToken == "" {
			break
		}
		// A token of owner2's list does not open owner1's.
		if _, err := s.ListDocuments(ctx, DocumentFilter{SelectionID: "sel-doc", Owner: "act-owner1"}, ListOptions{PageSize: 2, PageToken: page.NextPageToken}); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("token reused for another owner: %v", err)
		}
		opts.PageToken = page.NextPageToken
	}
	if strings.Join(seen, ",") != "kind0,kind1,kind2,kind3,kind4" {
		t.Fatalf("paged kinds %v", seen)
	}
	// opts.Owner narrows as the filter's owner does; the AIP filter takes kind and state.
	mine, err := s.ListDocuments(ctx, DocumentFilter{SelectionID: "sel-doc"}, ListOptions{Owner: "act-owner1"})
	if err != nil || len(mine.Items) != 1 || mine.Items[0].ID != doc.ID {
		t.Fatalf("owner1's list: %+v, %v", mine.Items, err)
	}
	byKind, err := s.ListDocuments(ctx, DocumentFilter{SelectionID: "sel-doc"}, ListOptions{Filter: `kind = "kind3" AND state = UPLOADED`})
	if err != nil || len(byKind.Items) != 1 || byKind.Items[0].Kind != "kind3" {
		t.Fatalf("filtered list: %+v, %v", byKind.Items, err)
	}
	desc, err := s.ListDocuments(ctx, DocumentFilter{SelectionID: "sel-doc", Owner: "act-owner2"}, ListOptions{OrderBy: "create_time desc", PageSize: 1})
	if err != nil || desc.Items[0].Kind != "kind4" {
		t.Fatalf("newest first: %+v, %v", desc.Items, err)
	}
	// Attaching is another change's job; the column is there for it.
	if err := s.db.Exec("UPDATE documents SET state = ?, application_id = ? WHERE id = ?", DocumentStateAttached,
		submit(t, s, newSubmission("sel-doc", 1, at)).ID, doc.ID).Error; err != nil {
		t.Fatal(err)
	}
	attached, _ := s.GetDocument(ctx, doc.ID)
	byApp, err := s.ListDocuments(ctx, DocumentFilter{SelectionID: "sel-doc", ApplicationID: attached.ApplicationID}, ListOptions{})
	if err != nil || len(byApp.Items) != 1 || byApp.Items[0].ID != doc.ID || byApp.Items[0].State != DocumentStateAttached {
		t.Fatalf("application's documents: %+v, %v", byApp.Items, err)
	}
	for _, bad := range []ListOptions{{Filter: "owner = x"}, {Filter: "state = lost"}, {OrderBy: "size"}} {
		if _, err := s.ListDocuments(ctx, DocumentFilter{SelectionID: "sel-doc"}, bad); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("list %+v: %v, want ErrInvalidArgument", bad, err)
		}
	}
	if _, err := s.ListDocuments(ctx, DocumentFilter{SelectionID: "sel-none"}, ListOptions{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("list of a missing selection: %v", err)
	}
}

// testDocumentAccesses: every access is recorded in document_accesses and as a chained audit
// event that the record points at; the chain stays intact; accesses list in order with
// filters and paging.
func testDocumentAccesses(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	openWindow(t, s, "sel-acc")
	doc, err := s.CreateDocument(ctx, newDocument("sel-acc", "act-owner", "ijazah", "upload-acc", t0.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	readers := []struct {
		actor   Actor
		purpose string
	}{
		{Actor{"act-chair", "ROLE_COMMITTEE"}, AccessMetadata},
		{Actor{"act-chair", "ROLE_COMMITTEE"}, AccessDownload},
		{Actor{"act-auditor", "ROLE_AUDITOR"}, AccessDownload},
		{Actor{"act-owner", "ROLE_CANDIDATE"}, AccessDownload},
	}
	for i, r := range readers {
		acc, err := s.RecordDocumentAccess(ctx, DocumentAccessInput{DocumentID: doc.ID, Actor: r.actor, Purpose: r.purpose,
			Now: t0.Add(2*time.Hour + time.Duration(i)*time.Second)})
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if acc.DocumentID != doc.ID || acc.SelectionID != "sel-acc" || acc.Actor != r.actor || acc.Purpose != r.purpose || acc.AuditSeq == 0 {
			t.Fatalf("access %d = %+v", i, acc)
		}
		events, err := s.ListAuditEvents(ctx, "sel-acc", ListOptions{Filter: `action = "` + ActionDocumentViewed + `"`})
		if err != nil || len(events.Items) != i+1 {
			t.Fatalf("viewed events after %d accesses: %d, %v", i+1, len(events.Items), err)
		}
		ev := events.Items[i]
		var payload map[string]any
		_ = json.Unmarshal(ev.Payload, &payload)
		if ev.Seq != acc.AuditSeq || ev.Target != "documents/"+doc.ID || ev.ActorSubject != r.actor.Subject || ev.Role != r.actor.Role ||
			payload["purpose"] != r.purpose || payload["accessId"] != acc.ID || payload["sha256"] != doc.SHA256 {
			t.Fatalf("viewed event %d = %+v payload %s", i, ev, ev.Payload)
		}
	}
	if rep, err := s.VerifyChain(ctx, "sel-acc"); err != nil || !rep.OK {
		t.Fatalf("chain after accesses: %+v, %v", rep, err)
	}

	page, err := s.ListDocumentAccesses(ctx, doc.ID, ListOptions{PageSize: 3})
	if err != nil || len(page.Items) != 3 || page.TotalSize != 4 || page.NextPageToken == "" || page.Items[0].Actor.Subject != "act-chair" {
		t.Fatalf("first page: %+v, %v", page, err)
	}
	rest, err := s.ListDocumentAccesses(ctx, doc.ID, ListOptions{PageSize: 3, PageToken: page.NextPageToken})
	if err != nil || len(rest.Items) != 1 || rest.Items[0].Actor.Subject != "act-owner" || rest.NextPageToken != "" {
		t.Fatalf("second page: %+v, %v", rest, err)
	}
	downloads, err := s.ListDocumentAccesses(ctx, doc.ID, ListOptions{Filter: "purpose = download AND role = COMMITTEE"})
	if err != nil || len(downloads.Items) != 1 || downloads.Items[0].Purpose != AccessDownload {
		t.Fatalf("committee downloads: %+v, %v", downloads.Items, err)
	}
	newest, err := s.ListDocumentAccesses(ctx, doc.ID, ListOptions{OrderBy: "access_time desc", PageSize: 1})
	if err != nil || newest.Items[0].Actor.Subject != "act-owner" {
		t.Fatalf("newest access: %+v, %v", newest.Items, err)
	}

	for _, tc := range []struct {
		name string
		in   DocumentAccessInput
		want error
	}{
		{"missing document", DocumentAccessInput{DocumentID: "doc-missing", Actor: Actor{"a", "ROLE_ADMIN"}, Purpose: AccessDownload, Now: t0}, ErrNotFound},
		{"unknown purpose", DocumentAccessInput{DocumentID: doc.ID, Actor: Actor{"a", "ROLE_ADMIN"}, Purpose: "print", Now: t0}, ErrInvalidArgument},
		{"no actor", DocumentAccessInput{DocumentID: doc.ID, Purpose: AccessDownload, Now: t0}, ErrInvalidArgument},
	} {
		if _, err := s.RecordDocumentAccess(ctx, tc.in); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if n := count(t, s, "document_accesses", "document_id = ?", doc.ID); n != 4 {
		t.Fatalf("%d access rows after refused records, want 4", n)
	}
	if _, err := s.ListDocumentAccesses(ctx, "doc-missing", ListOptions{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("accesses of a missing document: %v", err)
	}
}
