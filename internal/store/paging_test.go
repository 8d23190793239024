package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// TestPageTokens checks that page tokens are authenticated and bound to their list: a forged
// token, an altered one, or one from another list (another parent, owner, filter or order)
// is refused as an invalid page_token, while a genuine one works across a restart with the
// same key and not with another key.
func TestPageTokens(t *testing.T) {
	ctx := context.Background()
	path := "sqlite:" + filepath.Join(t.TempDir(), "seleksi.db")
	key := bytes.Repeat([]byte{7}, 32)
	s, err := Open(ctx, path, WithPageTokenKey(key))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"sel-a", "sel-b"} {
		openWindow(t, s, id)
		for i := range 6 {
			in := newSubmission(id, i, t0.Add(time.Duration(i)*time.Second))
			in.RequestID, in.Candidate.NIP = id+in.RequestID, nip(i+100*len(id))
			submit(t, s, in)
		}
	}
	first, err := s.ListApplications(ctx, "sel-a", ListOptions{PageSize: 2})
	if err != nil || first.NextPageToken == "" || first.TotalSize != 6 {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	genuine := first.NextPageToken
	if _, err := s.ListApplications(ctx, "sel-a", ListOptions{PageSize: 2, PageToken: genuine}); err != nil {
		t.Fatalf("the genuine token: %v", err)
	}

	// What a client could make of the token without the key.
	raw, err := base64.RawURLEncoding.DecodeString(genuine)
	if err != nil {
		t.Fatal(err)
	}
	payload := raw[pageTokenMAC:]
	var tok pageToken
	if err := json.Unmarshal(payload, &tok); err != nil {
		t.Fatalf("payload: %v", err)
	}
	inflated := tok
	inflated.Total = 999999
	inflatedJSON, _ := json.Marshal(inflated)
	forged := func(p []byte) string {
		// Unsigned, as the tokens were before they were authenticated.
		return base64.RawURLEncoding.EncodeToString(p)
	}
	altered := func(p []byte) string {
		return base64.RawURLEncoding.EncodeToString(append(append([]byte{}, raw[:pageTokenMAC]...), p...))
	}
	flipped := append([]byte{}, raw...)
	flipped[len(flipped)-3] ^= 1

	refused := []struct {
		name, list string
		opts       ListOptions
	}{
		{"forged total", "sel-a", ListOptions{PageSize: 2, PageToken: forged(inflatedJSON)}},
		{"altered total under the old MAC", "sel-a", ListOptions{PageSize: 2, PageToken: altered(inflatedJSON)}},
		{"one bit flipped", "sel-a", ListOptions{PageSize: 2, PageToken: base64.RawURLEncoding.EncodeToString(flipped)}},
		{"MAC alone", "sel-a", ListOptions{PageSize: 2, PageToken: base64.RawURLEncoding.EncodeToString(raw[:pageTokenMAC])}},
		{"garbage", "sel-a", ListOptions{PageSize: 2, PageToken: "bm90IGEgdG9rZW4"}},
		{"another selection", "sel-b", ListOptions{PageSize: 2, PageToken: genuine}},
		{"another filter", "sel-a", ListOptions{PageSize: 2, PageToken: genuine, Filter: "state = SUBMITTED"}},
		{"another order", "sel-a", ListOptions{PageSize: 2, PageToken: genuine, OrderBy: "submit_time desc"}},
		{"another owner", "sel-a", ListOptions{PageSize: 2, PageToken: genuine, Owner: "cand-1"}},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			page, err := s.ListApplications(ctx, tt.list, tt.opts)
			var opt *OptionError
			if !errors.As(err, &opt) || opt.Field != FieldPageToken || !errors.Is(err, ErrInvalidArgument) {
				t.Fatalf("got %d items, total %d, err %v; want an invalid page_token", len(page.Items), page.TotalSize, err)
			}
		})
	}
	// Tokens of the other lists are bound the same way.
	events, err := s.ListAuditEvents(ctx, "sel-a", ListOptions{PageSize: 2})
	if err != nil || events.NextPageToken == "" {
		t.Fatalf("audit events: %+v, %v", events, err)
	}
	if _, err := s.ListAuditEvents(ctx, "sel-b", ListOptions{PageSize: 2, PageToken: events.NextPageToken}); !isPageTokenError(err) {
		t.Errorf("an audit-event token of sel-a listing sel-b: %v", err)
	}
	if _, err := s.ListApplications(ctx, "sel-a", ListOptions{PageSize: 2, PageToken: events.NextPageToken}); !isPageTokenError(err) {
		t.Errorf("an audit-event token listing applications: %v", err)
	}
	sels, err := s.ListSelections(ctx, ListOptions{PageSize: 1})
	if err != nil || sels.NextPageToken == "" {
		t.Fatalf("selections: %+v, %v", sels, err)
	}
	if _, err := s.ListSelections(ctx, ListOptions{PageSize: 1, PageToken: sels.NextPageToken, Filter: "agency = Lain"}); !isPageTokenError(err) {
		t.Errorf("a selections token under another filter: %v", err)
	}

	// The same key after a restart accepts the token; another key does not.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(ctx, path, WithPageTokenKey(key))
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if page, err := again.ListApplications(ctx, "sel-a", ListOptions{PageSize: 2, PageToken: genuine}); err != nil || len(page.Items) != 2 {
		t.Fatalf("the genuine token after a restart: %d items, %v", len(page.Items), err)
	}
	other, err := Open(ctx, path, WithPageTokenKey(bytes.Repeat([]byte{8}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.ListApplications(ctx, "sel-a", ListOptions{PageSize: 2, PageToken: genuine}); !isPageTokenError(err) {
		t.Fatalf("a token under another key: %v", err)
	}
	if _, err := Open(ctx, path, WithPageTokenKey([]byte("short"))); err == nil {
		t.Fatal("a short page-token key was accepted")
	}

	// A rotation: the new key signs, the old one still verifies; once the old key is gone,
	// its tokens are refused.
	newKey := bytes.Repeat([]byte{9}, 32)
	rotated, err := Open(ctx, path, WithPageTokenKeys(newKey, key))
	if err != nil {
		t.Fatal(err)
	}
	defer rotated.Close()
	if page, err := rotated.ListApplications(ctx, "sel-a", ListOptions{PageSize: 2, PageToken: genuine}); err != nil || len(page.Items) != 2 {
		t.Fatalf("a token of the old key after the rotation: %d items, %v", len(page.Items), err)
	}
	fresh, err := rotated.ListApplications(ctx, "sel-a", ListOptions{PageSize: 2})
	if err != nil || fresh.NextPageToken == "" {
		t.Fatalf("first page after the rotation: %+v, %v", fresh, err)
	}
	if _, err := again.ListApplications(ctx, "sel-a", ListOptions{PageSize: 2, PageToken: fresh.NextPageToken}); !isPageTokenError(err) {
		t.Fatalf("a token of the new key was signed with the old one: %v", err)
	}
	retired, err := Open(ctx, path, WithPageTokenKeys(newKey))
	if err != nil {
		t.Fatal(err)
	}
	defer retired.Close()
	if _, err := retired.ListApplications(ctx, "sel-a", ListOptions{PageSize: 2, PageToken: fresh.NextPageToken}); err != nil {
		t.Fatalf("a token of the new key once the old is retired: %v", err)
	}
	if _, err := retired.ListApplications(ctx, "sel-a", ListOptions{PageSize: 2, PageToken: genuine}); !isPageTokenError(err) {
		t.Fatalf("a token of the retired key: %v", err)
	}
	if _, err := Open(ctx, path, WithPageTokenKeys(newKey, []byte("short"))); err == nil {
		t.Fatal("a short older page-token key was accepted")
	}
}

func isPageTokenError(err error) bool {
	var opt *OptionError
	return errors.As(err, &opt) && opt.Field == FieldPageToken
}
