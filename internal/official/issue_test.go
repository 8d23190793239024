package official

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/keys"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/internal/storetest"
)

func testSigner(t *testing.T) *Ed25519Signer {
	t.Helper()
	key, err := keys.LoadOrCreateEd25519(t.TempDir(), "official.pem")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewEd25519Signer(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// clock is a test clock moved by hand.
type clock struct{ t atomic.Pointer[time.Time] }

func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }
func (c *clock) now() time.Time   { return *c.t.Load() }
func (c *clock) set(t time.Time)  { c.t.Store(&t) }
func (c *clock) add(d time.Duration) {
	c.set(c.now().Add(d))
}

const testSelection = "kadis-2026"

// openSelection stores a selection whose announcement window is projected, which calls for a
// vacancy announcement.
func openSelection(t *testing.T, st *store.Store, now time.Time) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.CreateSelection(ctx, store.NewSelection{ID: testSelection, RequestID: "create", WorkflowID: "selection-" + testSelection,
		PositionTitle: "Kepala Dinas Pendidikan", PositionUnit: "Dinas Pendidikan", Agency: "Pemerintah Kabupaten Contoh", TimeZone: "TIME_ZONE_WITA",
		Config:    []byte(`{}`),
		Committee: []store.CommitteeMember{{MemberID: "chair", DisplayName: "Ketua", Kind: "MEMBER_KIND_EXTERNAL", Role: "COMMITTEE_ROLE_CHAIR"}},
		Actor:     store.Actor{Subject: "admin", Role: "ROLE_ADMIN"}, Now: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ProjectWindow(ctx, store.WindowInput{WorkflowID: "selection-" + testSelection, SelectionID: testSelection, Key: "window-1",
		Window: store.Window{Opens: now, Closes: now.Add(72 * time.Hour), ClosesWall: now.Add(72 * time.Hour)}}, now); err != nil {
		t.Fatal(err)
	}
}

// TestIssuance issues a document through the queue: once however often the worker runs,
// retried with backoff after a failure that operators see, signed, and reproducible from
// its facts.
func TestIssuance(t *testing.T) {
	for _, d := range storetest.Drivers() {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			st := storetest.Open(t, d.URL(t))
			clk := newClock(time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC))
			openSelection(t, st, clk.now())
			var builds, failures atomic.Int32
			failures.Store(1)
			kind := Kind{Name: store.OfficialVacancyAnnouncement, Code: "PENG", Build: func(_ context.Context, src Source) (Built, error) {
				builds.Add(1)
				if failures.Add(-1) >= 0 {
					return Built{}, errors.New("the agency's data is not there yet")
				}
				return Built{Content: Content{Title: T("Pengumuman "+src.Selection.PositionTitle, "Announcement"),
					Blocks: []Block{P("Revisi "+strings.Repeat("I", src.Job.Revision), "Revision")}}}, nil
			}}
			iss := NewIssuer(st, testSigner(t), slog.New(slog.NewTextHandler(io.Discard, nil)),
				Options{PublicURL: "https://seleksi.example.go.id/", NumberPrefix: "PKC", Now: clk.now, BackoffInitial: time.Minute}, kind)

			r, err := iss.IssueOnce(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if r.Queued != 1 || r.Failed != 1 || r.Issued != 0 {
				t.Fatalf("first round %+v, want one job queued and failed", r)
			}
			jobs, err := st.ListOfficialJobs(ctx, testSelection, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(jobs) != 1 || jobs[0].Attempts != 1 || !strings.Contains(jobs[0].LastError, "not there yet") ||
				!jobs[0].NextAttempt.After(clk.now()) || jobs[0].Seq != 1 {
				t.Fatalf("failed job %+v: want its error, one attempt, seq 1 and a later next attempt", jobs)
			}
			// Not due yet: nothing happens.
			if r, err := iss.IssueOnce(ctx); err != nil || r != (Round{}) {
				t.Fatalf("round before the backoff: %+v, %v", r, err)
			}
			clk.add(2 * time.Minute)
			if r, err := iss.IssueOnce(ctx); err != nil || r.Issued != 1 {
				t.Fatalf("round after the backoff: %+v, %v", r, err)
			}
			// Running again, and deriving again, issues nothing more.
			for range 2 {
				if r, err := iss.IssueOnce(ctx); err != nil || r != (Round{}) {
					t.Fatalf("round after issuing: %+v, %v", r, err)
				}
			}
			if builds.Load() != 2 {
				t.Fatalf("%d builds, want 2", builds.Load())
			}
			docs, err := st.ListOfficialDocuments(ctx, testSelection)
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) != 1 {
				t.Fatalf("%d documents, want 1", len(docs))
			}
			doc, err := st.GetOfficialDocument(ctx, docs[0].ID, true)
			if err != nil {
				t.Fatal(err)
			}
			if doc.Number != "PKC/PENG/kadis-2026/0001" || doc.ID != "pkc-peng-kadis-2026-0001" || doc.Issuer != "Pemerintah Kabupaten Contoh" ||
				doc.KeyID != iss.Signer().KeyID() || doc.Revision != 1 || doc.MediaType != MediaType {
				t.Fatalf("document %+v", doc)
			}
			check, err := iss.Verify(ctx, doc)
			if err != nil {
				t.Fatal(err)
			}
			if !check.Valid() || !check.Reproducible {
				t.Fatalf("check %+v, want valid and reproducible", check)
			}
			// The API side checks with the keys the worker registered in the store, holding no
			// private key.
			registered := NewRegisteredKeys(st)
			if pubs, err := registered.PublicKeys(ctx); err != nil || len(pubs) != 1 || pubs[0].ID != iss.Signer().KeyID() {
				t.Fatalf("registered keys %+v, %v", pubs, err)
			}
			sig, _ := base64.StdEncoding.DecodeString(doc.Signature)
			if err := registered.Verify(ctx, doc.KeyID, doc.Content, sig); err != nil {
				t.Fatalf("the registered key does not verify the document: %v", err)
			}
			text := pdfText(t, doc.Content)
			for _, want := range []string{"Pengumuman Kepala Dinas Pendidikan", "PKC/PENG/kadis-2026/0001", "https://seleksi.example.go.id/verify/pkc-peng-kadis-2026-0001", "WITA"} {
				if !strings.Contains(text, want) {
					t.Errorf("text lacks %q", want)
				}
			}
			// A tampered copy in the registry fails the check.
			doc.Content[len(doc.Content)/3] ^= 1
			if check, err := iss.Verify(ctx, doc); err != nil || check.Valid() || check.Reproducible {
				t.Fatalf("tampered document: %+v, %v", check, err)
			}
			if err := registered.Verify(ctx, doc.KeyID, doc.Content, sig); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("the registered key accepts a changed document: %v", err)
			}

			// An extension of the window calls for revision 2, which supersedes revision 1.
			clk.add(time.Hour)
			if _, err := st.ProjectWindow(ctx, store.WindowInput{WorkflowID: "selection-" + testSelection, SelectionID: testSelection, Key: "window-2",
				Window: store.Window{Opens: clk.now(), Closes: clk.now().Add(96 * time.Hour), ClosesWall: clk.now().Add(96 * time.Hour), Extension: 1}}, clk.now()); err != nil {
				t.Fatal(err)
			}
			if r, err := iss.IssueOnce(ctx); err != nil || r.Issued != 1 {
				t.Fatalf("round after the extension: %+v, %v", r, err)
			}
			docs, err = st.ListOfficialDocuments(ctx, testSelection)
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) != 2 || docs[1].Revision != 2 || docs[1].Number != "PKC/PENG/kadis-2026/0002" ||
				docs[0].SupersededBy != docs[1].ID || docs[1].Supersedes != docs[0].ID || docs[1].SupersededBy != "" {
				t.Fatalf("documents after a revision: %+v", docs)
			}
		})
	}
}

// TestConcurrentWorkers runs two issuers on one store at once: each document is issued once.
func TestConcurrentWorkers(t *testing.T) {
	for _, d := range storetest.Drivers() {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			url := d.URL(t)
			st := storetest.Open(t, url)
			clk := newClock(time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC))
			openSelection(t, st, clk.now())
			var builds atomic.Int32
			kind := Kind{Name: store.OfficialVacancyAnnouncement, Code: "PENG", Build: func(context.Context, Source) (Built, error) {
				builds.Add(1)
				return Built{Content: Content{Title: T("Pengumuman", "Announcement")}}, nil
			}}
			signer := testSigner(t)
			logger := slog.New(slog.NewTextHandler(io.Discard, nil))
			errs := make(chan error, 2)
			for range 2 {
				other := storetest.Open(t, url)
				go func() {
					_, err := NewIssuer(other, signer, logger, Options{Now: clk.now}, kind).IssueOnce(ctx)
					errs <- err
				}()
			}
			for range 2 {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			docs, err := st.ListOfficialDocuments(ctx, testSelection)
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) != 1 || builds.Load() != 1 {
				t.Fatalf("%d documents from %d builds, want one of each", len(docs), builds.Load())
			}
		})
	}
}

// TestClaimOutlivesItsWorker: a worker that dies after claiming a job holds it only until its
// lease runs out; then another issues it, under the number the first claim fixed, and the
// first worker's late completion (had it only stalled) adds no second document.
func TestClaimOutlivesItsWorker(t *testing.T) {
	for _, d := range storetest.Drivers() {
		t.Run(d.Name, func(t *testing.T) {
			ctx := context.Background()
			url := d.URL(t)
			st := storetest.Open(t, url)
			clk := newClock(time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC))
			openSelection(t, st, clk.now())
			kind := Kind{Name: store.OfficialVacancyAnnouncement, Code: "PENG", Build: func(context.Context, Source) (Built, error) {
				return Built{Content: Content{Title: T("Pengumuman", "Announcement")}}, nil
			}}
			logger := slog.New(slog.NewTextHandler(io.Discard, nil))
			const lease = 2 * time.Minute
			if _, err := st.DeriveOfficialJobs(ctx, clk.now()); err != nil {
				t.Fatal(err)
			}
			// The first worker claims the job and dies.
			dead, err := storetest.Open(t, url).ClaimOfficialJob(ctx, clk.now(), lease)
			if err != nil || dead.Seq != 1 {
				t.Fatalf("claim: %+v, %v", dead, err)
			}
			other := NewIssuer(st, testSigner(t), logger, Options{Now: clk.now, Lease: lease}, kind)
			clk.add(lease - time.Second)
			if r, err := other.IssueOnce(ctx); err != nil || r.Issued != 0 {
				t.Fatalf("while the claim holds: %+v, %v; want nothing issued", r, err)
			}
			clk.add(2 * time.Second)
			if r, err := other.IssueOnce(ctx); err != nil || r.Issued != 1 {
				t.Fatalf("after the claim ran out: %+v, %v; want the job issued", r, err)
			}
			docs, err := st.ListOfficialDocuments(ctx, testSelection)
			if err != nil || len(docs) != 1 || !strings.HasSuffix(docs[0].Number, "/0001") {
				t.Fatalf("documents %+v (%v), want one numbered 0001", docs, err)
			}
			late, err := st.CompleteOfficialJob(ctx, dead, store.OfficialDocument{ID: "late", Number: "late", SHA256: "00", Signature: "00",
				Content: []byte("%PDF")}, clk.now())
			if err != nil || late.ID != docs[0].ID {
				t.Fatalf("the first worker's late completion: %+v, %v; want the issued document", late, err)
			}
			if docs, _ := st.ListOfficialDocuments(ctx, testSelection); len(docs) != 1 {
				t.Fatalf("%d documents after a late completion, want 1", len(docs))
			}
		})
	}
}

// TestRunRests: the running loop rests after each document in proportion to the time the
// document took, so that at most Options.Share of a CPU goes to documents while
// applications arrive.
func TestRunRests(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := storetest.Open(t, "sqlite:"+filepath.Join(t.TempDir(), "seleksi.db"))
	openSelection(t, st, time.Now())
	const (
		jobs  = 4
		build = 25 * time.Millisecond
		share = 0.25
	)
	for i := range jobs {
		if err := st.EnqueueOfficialJob(ctx, testSelection, store.OfficialMinutes, "STAGE_"+string(rune('A'+i)), 1, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	starts := make(chan time.Time, jobs)
	slow := Kind{Name: store.OfficialMinutes, Code: "BA", Build: func(context.Context, Source) (Built, error) {
		starts <- time.Now()
		time.Sleep(build)
		return Built{Content: Content{Title: T("Berita acara", "Minutes")}}, nil
	}}
	none := Kind{Name: store.OfficialVacancyAnnouncement, Code: "PENG", Build: func(context.Context, Source) (Built, error) {
		return Built{}, ErrNothingToIssue
	}}
	iss := NewIssuer(st, testSigner(t), slog.New(slog.DiscardHandler), Options{Share: share, Interval: time.Hour}, slow, none)
	go iss.Run(ctx)
	var prev time.Time
	for i := range jobs {
		at := <-starts
		// A document that took at least build is followed by a rest of at least
		// build*(1/share-1): the next one starts build/share after it at the earliest.
		if i > 0 && at.Sub(prev) < time.Duration(float64(build)/share) {
			t.Fatalf("document %d started %s after the one before, want at least %s", i+1, at.Sub(prev), time.Duration(float64(build)/share))
		}
		prev = at
	}
}
