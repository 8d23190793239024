package documents

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"image"
	imagepng "image/png"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/documents/doctest"
	"github.com/bkpsdm/seleksi/internal/documents/scan"
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

// TestScanInspector: the type comes from the content, never the name, and a refused file
// gets the status that fits its fault: 415 for its type, 413 for its size, 422 for what it
// holds.
func TestScanInspector(t *testing.T) {
	p := Policy{MaxBytes: 64 << 10, MediaTypes: DefaultMediaTypes()}
	var png bytes.Buffer
	if err := imagepng.Encode(&png, image.NewRGBA(image.Rect(0, 0, 16, 16))); err != nil {
		t.Fatal(err)
	}
	good := doctest.PDF(4000, 1)
	tests := []struct {
		name   string
		data   []byte
		typ    string
		status int
		code   string
	}{
		{"pdf", good, "application/pdf", 0, ""},
		{"png", png.Bytes(), "image/png", 0, ""},
		{"truncated pdf", good[:3000], "", http.StatusUnprocessableEntity, scan.CodePDFMalformed},
		{"html", []byte("<html><script>alert(1)</script>"), "", http.StatusUnsupportedMediaType, scan.CodeTypeNotAllowed},
		{"pdf with a zip appended", append(append([]byte{}, good...), zipBytes(t)...), "", http.StatusUnprocessableEntity, scan.CodePolyglot},
		{"empty", nil, "", http.StatusUnprocessableEntity, scan.CodeEmpty},
		{"too large", doctest.PDF(70<<10, 2), "", http.StatusRequestEntityTooLarge, scan.CodeTooLarge},
	}
	for _, tc := range tests {
		res, err := ScanInspector{}.Inspect(context.Background(), bytes.NewReader(tc.data), int64(len(tc.data)), p)
		var rej *Rejection
		switch {
		case tc.status == 0 && (err != nil || res.MediaType != tc.typ || len(res.SHA256) != 64 || res.Size != int64(len(tc.data))):
			t.Errorf("%s: %+v, %v", tc.name, res, err)
		case tc.status != 0 && (!errors.As(err, &rej) || rej.Status != tc.status || rej.Code != tc.code):
			t.Errorf("%s: %v, want a refusal %s with %d", tc.name, err, tc.code, tc.status)
		}
	}
}

func zipBytes(t *testing.T) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	f, err := zw.Create("payload.html")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte("<html>hello</html>"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
