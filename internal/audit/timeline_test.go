package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/workflows"
)

// TestGoldenTimelines renders the timelines of the golden bundles in both languages and
// compares them with testdata/<bundle>.timeline.<lang>.txt (rewritten by -update).
func TestGoldenTimelines(t *testing.T) {
	pub := testKey("server").Public().(ed25519.PublicKey)
	// The -codes bundles were recorded by selections that carry message codes; the others
	// before, with rendered texts.
	for _, name := range []string{"happy-path", "objections-recusal-withdrawal", "cancelled-at-competency",
		"happy-path-codes", "objections-recusal-withdrawal-codes", "cancelled-at-competency-codes"} {
		data, err := os.ReadFile(filepath.Join("testdata", name+".bundle.zip"))
		if err != nil {
			t.Fatal(err)
		}
		b := readBundle(t, data)
		rep, err := VerifyBundle(context.Background(), b, pub)
		if err != nil {
			t.Fatal(err)
		}
		for _, lang := range []string{"id", "en"} {
			t.Run(name+"/"+lang, func(t *testing.T) {
				entries := Timeline(rep.Replay.Facts, b.Events, lang, testCatalog(t))
				var buf bytes.Buffer
				if err := RenderTimeline(&buf, entries, rep.Replay.Facts.Zone, lang); err != nil {
					t.Fatal(err)
				}
				golden := filepath.Join("testdata", name+".timeline."+lang+".txt")
				if *update {
					if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(buf.Bytes(), want) {
					t.Errorf("timeline differs from %s:\n%s", golden, buf.String())
				}
				// Every applied record and every store-only event appears once, in time order.
				if n := len(b.Events); len(entries) != n {
					t.Errorf("%d entries for %d audit events", len(entries), n)
				}
				for i := 1; i < len(entries); i++ {
					if entries[i].At.Before(entries[i-1].At) {
						t.Errorf("entry %d is earlier than entry %d", i, i-1)
					}
				}
				if _, err := json.Marshal(entries); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

func TestTimelineLanguages(t *testing.T) {
	facts := factsOf(t, "objections-recusal-withdrawal")
	id := Timeline(facts, nil, "id", testCatalog(t))
	en := Timeline(facts, nil, "en", testCatalog(t))
	if len(id) != len(en) || len(id) == 0 {
		t.Fatalf("%d Indonesian and %d English entries", len(id), len(en))
	}
	var idText, enText strings.Builder
	for i := range id {
		idText.WriteString(id[i].Summary + id[i].StageName + id[i].RoleName)
		enText.WriteString(en[i].Summary + en[i].StageName + en[i].RoleName)
	}
	for _, w := range []string{"sanggah", "konflik kepentingan", "panitia seleksi", "seleksi administrasi", "Menarik lamaran"} {
		if !strings.Contains(idText.String(), w) {
			t.Errorf("the Indonesian timeline lacks %q", w)
		}
	}
	for _, w := range []string{"objection", "conflict of interest", "committee", "administrative screening", "Withdrew application"} {
		if !strings.Contains(enText.String(), w) {
			t.Errorf("the English timeline lacks %q", w)
		}
	}
}

// TestStoreSummaryOfAnEarlyWithdrawal: a withdrawal during the announcement, which only the
// store records, reads as one in the timeline rather than as a bare action name.
func TestStoreSummaryOfAnEarlyWithdrawal(t *testing.T) {
	e := AuditEvent{Action: "WithdrawBeforeClose", Target: "selections/kadis-2026/applications/app-7"}
	for _, tc := range []struct {
		en   bool
		want string
	}{
		{false, "Menarik lamaran app-7 selama pengumuman masih dibuka."},
		{true, "Withdrew application app-7 while the announcement was open."},
	} {
		if got := storeSummary(e, tc.en); got != tc.want {
			t.Errorf("storeSummary(en=%v) = %q, want %q", tc.en, got, tc.want)
		}
	}
}

// TestStoreSummaryOfAnErasure: a document's erasure after its retention reads as one.
func TestStoreSummaryOfAnErasure(t *testing.T) {
	e := AuditEvent{Action: "DocumentErased", Target: "documents/doc-abcdefghijklmnop"}
	for _, tc := range []struct {
		en   bool
		want string
	}{
		{false, "Menghapus dokumen doc-abcdefghijklmnop setelah masa retensinya."},
		{true, "Erased document doc-abcdefghijklmnop after its retention."},
	} {
		if got := storeSummary(e, tc.en); got != tc.want {
			t.Errorf("storeSummary(en=%v) = %q, want %q", tc.en, got, tc.want)
		}
	}
}

// TestTimelineTellsAResume: the secretariat's resume of a blocked selection reads as such in
// both languages.
func TestTimelineTellsAResume(t *testing.T) {
	facts := factsOf(t, "blocked-then-resumed")
	for lang, want := range map[string]string{"id": "Meminta seleksi yang terhenti dilanjutkan.", "en": "Asked the blocked selection to resume."} {
		found := false
		for _, e := range Timeline(facts, nil, lang, testCatalog(t)) {
			found = found || e.Summary == want
		}
		if !found {
			t.Errorf("%s timeline lacks %q", lang, want)
		}
	}
}

// TestTimelineFilesStoreEventsUnderTheirStage: the store's own events are filed under the
// stage they happened in; an archived run's history under the stage the run ended in, not
// under the announcement.
func TestTimelineFilesStoreEventsUnderTheirStage(t *testing.T) {
	facts := factsOf(t, "happy-path")
	if len(facts.Runs) == 0 || facts.Runs[0].RunID == "" || len(facts.Records) == 0 {
		t.Fatalf("facts without runs or records: %+v", facts.Runs)
	}
	last := facts.Records[len(facts.Records)-1].Record
	first := facts.Records[0].Record
	archived := AuditEvent{Seq: 90, ActorSubject: "seleksi", Role: "ROLE_SYSTEM", Action: "HistoryArchived",
		Target: "selections/" + facts.SelectionID + "/runs/" + facts.Runs[0].RunID, WorkflowTime: last.At.Add(time.Minute),
		Payload: json.RawMessage(`{"runId":"` + facts.Runs[0].RunID + `","sha256":"ab","closeStatus":"WORKFLOW_EXECUTION_STATUS_COMPLETED"}`)}
	submitted := AuditEvent{Seq: 2, ActorSubject: "cand-1", Role: "ROLE_CANDIDATE", Action: "SubmitApplication",
		Target: "selections/" + facts.SelectionID + "/applications/app-1", WorkflowTime: first.At.Add(time.Minute)}
	for _, lang := range []string{"id", "en"} {
		entries := Timeline(facts, []AuditEvent{submitted, archived}, lang, testCatalog(t))
		got := map[string]TimelineEntry{}
		for _, e := range entries {
			if e.Source == "audit" {
				got[e.Action] = e
			}
		}
		if e := got["HistoryArchived"]; e.Stage != last.Stage || strings.Contains(e.Summary, "HistoryArchived") {
			t.Errorf("%s: history archived filed under %s (%q), want %s", lang, e.Stage, e.Summary, last.Stage)
		}
		if e := got["SubmitApplication"]; e.Stage != workflows.StageAnnouncement {
			t.Errorf("%s: submission filed under %s", lang, e.Stage)
		}
	}
}
