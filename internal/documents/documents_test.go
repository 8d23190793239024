package documents

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/store"
)

// TestRulesOf: a selection's document rules come from its stored definition, with the
// defaults for what it leaves out, and the limit capped at MaxBytesLimit.
func TestRulesOf(t *testing.T) {
	tests := []struct {
		name      string
		config    string
		maxBytes  int64
		types     []string
		pages     int
		kinds     []string
		objection bool
	}{
		{"defaults", `{}`, DefaultMaxBytes, DefaultMediaTypes(), DefaultMaxPages, nil, false},
		{"set", `{"requirements":{"requiredDocuments":[{"id":"ijazah"},{"id":"lhkpn"}]},"documentPolicy":{"maxDocumentBytes":"1048576",` +
			`"documentMediaTypes":["application/pdf"],"maxPages":10,"objectionDocuments":true}}`,
			1 << 20, []string{"application/pdf"}, 10, []string{"ijazah", "lhkpn"}, true},
		{"capped", `{"documentPolicy":{"maxDocumentBytes":"104857600"}}`, MaxBytesLimit, DefaultMediaTypes(), DefaultMaxPages, nil, false},
	}
	for _, tc := range tests {
		r, err := rulesOf(store.Selection{ID: "s", Config: []byte(tc.config)})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if r.policy.MaxBytes != tc.maxBytes || !slices.Equal(r.policy.MediaTypes, tc.types) || r.policy.MaxPages != tc.pages ||
			!slices.Equal(r.kinds, tc.kinds) || r.objection != tc.objection {
			t.Errorf("%s: %+v", tc.name, r)
		}
	}
	if _, err := rulesOf(store.Selection{ID: "s", Config: []byte(`{"documentPolicy":"x"}`)}); err == nil {
		t.Error("a definition that does not decode was accepted")
	}
}

func TestCheckKindAndWindow(t *testing.T) {
	r := selectionRules{kinds: []string{"ijazah"}}
	for kind, want := range map[string]string{"ijazah": "", "skck": CodeKindNotRequired, "objection": CodeObjectionNotAllowed} {
		err := r.checkKind(kind)
		var rej *Rejection
		if (want == "" && err != nil) || (want != "" && (!errors.As(err, &rej) || rej.Code != want)) {
			t.Errorf("kind %s: %v, want %q", kind, err, want)
		}
	}
	r.objection = true
	if err := r.checkKind("objection"); err != nil {
		t.Errorf("objection allowed: %v", err)
	}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	open := store.Selection{Stage: store.StageAnnouncement, Window: store.Window{Opens: now.Add(-time.Hour), ClosesWall: now.Add(time.Hour)}}
	for name, tc := range map[string]struct {
		sel  store.Selection
		kind string
		ok   bool
	}{
		"open":            {open, "ijazah", true},
		"before":          {open, "ijazah", false},
		"frozen":          {func() store.Selection { s := open; s.IntakeFrozen = true; return s }(), "ijazah", false},
		"later stage":     {func() store.Selection { s := open; s.Stage = "STAGE_INTERVIEW"; return s }(), "ijazah", false},
		"objection later": {func() store.Selection { s := open; s.Stage = "STAGE_INTERVIEW"; return s }(), "objection", true},
	} {
		at := now
		if name == "before" {
			at = now.Add(-2 * time.Hour)
		}
		if err := checkWindow(tc.sel, tc.kind, at); (err == nil) != tc.ok {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestCleanFileName(t *testing.T) {
	for in, want := range map[string]string{
		"Ijazah S2.pdf":                        "Ijazah S2.pdf",
		"../../etc/passwd":                     "passwd",
		`C:\Users\budi\lhkpn.pdf`:              "lhkpn.pdf",
		"a\"b\x00c\n.pdf":                      "abc.pdf",
		"":                                     "ijazah",
		"..":                                   "ijazah",
		string(bytes.Repeat([]byte("é"), 150)): string(bytes.Repeat([]byte("é"), 100)),
	} {
		if got := cleanFileName(in, "ijazah"); got != want {
			t.Errorf("cleanFileName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSniffInspector: the type comes from the magic number, never the name; a PDF without
// its end marker, an empty file and one over the limit are refused with the status that fits.
func TestSniffInspector(t *testing.T) {
	p := Policy{MaxBytes: 1000, MediaTypes: DefaultMediaTypes()}
	tests := []struct {
		name   string
		data   []byte
		typ    string
		status int
	}{
		{"pdf", []byte("%PDF-1.7\n1 0 obj\n%%EOF\n"), "application/pdf", 0},
		{"jpeg", []byte("\xff\xd8\xff\xe0rest"), "image/jpeg", 0},
		{"png", []byte("\x89PNG\r\n\x1a\nrest"), "image/png", 0},
		{"truncated pdf", []byte("%PDF-1.7\n1 0 obj\n"), "", http.StatusUnprocessableEntity},
		{"html", []byte("<html><script>alert(1)</script>"), "", http.StatusUnsupportedMediaType},
		{"zip", []byte("PK\x03\x04"), "", http.StatusUnsupportedMediaType},
		{"empty", nil, "", http.StatusUnprocessableEntity},
		{"too large", append([]byte("%PDF-"), make([]byte, 1000)...), "", http.StatusRequestEntityTooLarge},
	}
	for _, tc := range tests {
		res, err := SniffInspector{}.Inspect(context.Background(), bytes.NewReader(tc.data), int64(len(tc.data)), p)
		var rej *Rejection
		switch {
		case tc.status == 0 && (err != nil || res.MediaType != tc.typ || len(res.SHA256) != 64 || res.Size != int64(len(tc.data))):
			t.Errorf("%s: %+v, %v", tc.name, res, err)
		case tc.status != 0 && (!errors.As(err, &rej) || rej.Status != tc.status):
			t.Errorf("%s: %v, want a refusal with %d", tc.name, err, tc.status)
		}
	}
}
