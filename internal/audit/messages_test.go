package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bkpsdm/seleksi/internal/i18n"
)

// TestBundleRecordsCodeRevision: the manifest names the code that wrote the bundle, under
// the signature.
func TestBundleRecordsCodeRevision(t *testing.T) {
	key := testKey("server")
	if rev := CodeRevision(); !strings.HasPrefix(rev, "github.com/bkpsdm/seleksi@") {
		t.Errorf("CodeRevision() = %q", rev)
	}
	for _, h := range recorded(t) {
		b := readBundle(t, makeBundle(t, h, key))
		if b.Manifest.CodeRevision != CodeRevision() || b.CodeRevision != CodeRevision() {
			t.Errorf("manifest records %q, want %q", b.Manifest.CodeRevision, CodeRevision())
		}
		b.CodeRevision = "github.com/bkpsdm/seleksi@v1.4.0 vcs 0123abcd"
		var buf bytes.Buffer
		if err := WriteBundle(&buf, *b, key); err != nil {
			t.Fatal(err)
		}
		again := readBundle(t, buf.Bytes())
		if again.Manifest.CodeRevision != b.CodeRevision {
			t.Errorf("manifest records %q, want the exporter's %q", again.Manifest.CodeRevision, b.CodeRevision)
		}
		if err := again.VerifySignature(key.Public().(ed25519.PublicKey)); err != nil {
			t.Error(err)
		}
		break
	}
}

// TestWordingChangeKeepsBundlesValid rewords every template of the catalog, in both
// languages, and checks that every golden bundle still replays and verifies with no finding:
// nothing recorded depends on the wording. Bundles recorded with message codes read in the
// new wording; those written before keep the texts they recorded.
func TestWordingChangeKeepsBundlesValid(t *testing.T) {
	files := map[i18n.Lang][]byte{}
	reword := regexp.MustCompile(`(?m)^([a-z_]+\.[A-Za-z_.]+): "`)
	for _, l := range []i18n.Lang{i18n.ID, i18n.EN} {
		raw, err := os.ReadFile(filepath.Join("..", "i18n", "messages", string(l)+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		files[l] = reword.ReplaceAll(raw, []byte(`$1: "(diubah) `))
	}
	edited, err := i18n.ParseCatalog(files)
	if err != nil {
		t.Fatal(err)
	}
	if got := edited.Render(i18n.Msg{Code: "status.withdrawn"}, i18n.ID); got != "(diubah) Anda telah menarik lamaran." {
		t.Fatalf("the edited catalog renders %q", got)
	}
	pub := testKey("server").Public().(ed25519.PublicKey)
	bundles, err := filepath.Glob(filepath.Join("testdata", "*.bundle.zip"))
	if err != nil || len(bundles) == 0 {
		t.Fatalf("no golden bundles: %v", err)
	}
	for _, f := range bundles {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b := readBundle(t, data)
		rep, err := VerifyBundle(context.Background(), b, pub)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() {
			t.Errorf("%s: findings after a wording change: %v", f, rep.Findings)
		}
		codes := strings.HasSuffix(f, "-codes.bundle.zip")
		for _, lang := range []string{"id", "en"} {
			a := Timeline(rep.Replay.Facts, b.Events, lang, edited)
			o := Timeline(rep.Replay.Facts, b.Events, lang, testCatalog(t))
			reworded := 0
			for i := range a {
				switch {
				case a[i].Summary == o[i].Summary:
				case codes && strings.Contains(a[i].Summary, "(diubah)"):
					reworded++
				default:
					t.Errorf("%s: %q was recorded as %q", f, a[i].Summary, o[i].Summary)
				}
			}
			// A bundle recorded with codes reads in the catalog's wording of the day.
			if codes && reworded == 0 {
				t.Errorf("%s: no entry follows the new wording", f)
			}
		}
	}
}

// TestCodesHistoriesReplay: the histories recorded by selections that carry message codes
// replay to the state they handed over at a continue-as-new and to the result they returned,
// and the state holds codes.
func TestCodesHistoriesReplay(t *testing.T) {
	all := recorded(t)
	happy := all["happy-path-codes"]
	if happy == nil {
		t.Fatal("no happy-path-codes history")
	}
	run1, run2 := continuedRuns(t, happy)
	rep, err := Replay(context.Background(), [][]byte{run1, run2})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.State == nil || !rep.State.MessageCodes {
		t.Fatalf("continued runs: findings %v, state %+v", rep.Findings, rep.State)
	}
	for _, name := range []string{"happy-path-codes", "objections-recusal-withdrawal-codes", "cancelled-at-competency-codes", "extended-then-postponed-codes"} {
		rep, err := Replay(context.Background(), [][]byte{all[name]})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() || rep.State == nil || !rep.State.MessageCodes {
			t.Errorf("%s: findings %v, message codes %v", name, rep.Findings, rep.State != nil && rep.State.MessageCodes)
		}
	}
	for _, name := range []string{"happy-path", "objections-recusal-withdrawal"} {
		rep, err := Replay(context.Background(), [][]byte{all[name]})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() || rep.State.MessageCodes {
			t.Errorf("%s (recorded before codes): findings %v, message codes %v", name, rep.Findings, rep.State.MessageCodes)
		}
	}
}
