package server

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/audit"
	"github.com/bkpsdm/seleksi/internal/historytest"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// fakeHistory serves recorded histories as Temporal would: a visibility listing of the runs
// and each run's events.
type fakeHistory struct {
	workflowID string
	runs       []*historypb.History
	// unlisted hides the runs from visibility, as a visibility store that lags would.
	unlisted bool
	queries  []string
}

func (f *fakeHistory) ListWorkflow(_ context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	f.queries = append(f.queries, req.GetQuery())
	resp := &workflowservice.ListWorkflowExecutionsResponse{}
	if f.unlisted || req.GetQuery() != "WorkflowId = '"+f.workflowID+"'" {
		return resp, nil
	}
	// Newest first, as visibility lists by default; the server must sort.
	for i := len(f.runs) - 1; i >= 0; i-- {
		h := f.runs[i]
		resp.Executions = append(resp.Executions, &workflowpb.WorkflowExecutionInfo{
			Execution: &commonpb.WorkflowExecution{WorkflowId: f.workflowID, RunId: startedRunID(h)},
			StartTime: h.GetEvents()[0].GetEventTime(),
		})
	}
	return resp, nil
}

func (f *fakeHistory) GetWorkflowHistory(_ context.Context, workflowID, runID string, _ bool, _ enumspb.HistoryEventFilterType) client.HistoryEventIterator {
	if workflowID == f.workflowID {
		for i, h := range f.runs {
			if startedRunID(h) == runID || (runID == "" && i == len(f.runs)-1) {
				return historytest.Events(h)
			}
		}
	}
	return historytest.NotFound()
}

// fakeAuditStore holds one selection's audit chain, projection and snapshot digests, and
// verifies its chain with the store's own hash, as the real store does.
type fakeAuditStore struct {
	selection store.Selection
	events    []store.AuditEvent
	apps      []store.Application
	snapshots map[string]string // key -> digest of the rows
	// projection is the store's projected rows (ReadProjection); firstProjection, when set,
	// is what the first reading returns, as a store that a command changed in between would.
	projection      []store.ProjectionRow
	firstProjection []store.ProjectionRow
	projectionReads int
	// firstEvents, when set, is what the first reading of the audit events returns, as a
	// chain that a command appended to in between would.
	firstEvents []store.AuditEvent
	eventReads  int
	documents   []store.StoredDocument
}

func (f *fakeAuditStore) ListDocuments(_ context.Context, flt store.DocumentFilter, _ store.ListOptions) (store.Page[store.StoredDocument], error) {
	if flt.SelectionID != f.selection.ID {
		return store.Page[store.StoredDocument]{}, store.ErrNotFound
	}
	return store.Page[store.StoredDocument]{Items: f.documents}, nil
}

// ActorSubjects knows no actors: the chain records subjects, as before actor IDs.
func (*fakeAuditStore) ActorSubjects(context.Context, []string) (map[string]string, error) {
	return map[string]string{}, nil
}

// fakePage is small so that the handlers' paging is exercised.
const fakePage = 7

func page[T any](items []T, opts store.ListOptions) store.Page[T] {
	size := opts.PageSize
	if size == 0 || size > fakePage {
		size = fakePage
	}
	from, _ := strconv.Atoi(opts.PageToken)
	to := min(from+size, len(items))
	p := store.Page[T]{Items: items[from:to], TotalSize: int64(len(items))}
	if to < len(items) {
		p.NextPageToken = strconv.Itoa(to)
	}
	return p
}

func (f *fakeAuditStore) GetSelection(_ context.Context, id string) (store.Selection, error) {
	if id != f.selection.ID {
		return store.Selection{}, fmt.Errorf("selection %q: %w", id, store.ErrNotFound)
	}
	return f.selection, nil
}

func (f *fakeAuditStore) ListAuditEvents(_ context.Context, id string, opts store.ListOptions) (store.Page[store.AuditEvent], error) {
	if id != f.selection.ID {
		return store.Page[store.AuditEvent]{}, store.ErrNotFound
	}
	if opts.PageToken == "" {
		f.eventReads++
	}
	if f.firstEvents != nil && f.eventReads == 1 {
		return page(f.firstEvents, opts), nil
	}
	return page(f.events, opts), nil
}

func (f *fakeAuditStore) ListApplications(_ context.Context, id string, opts store.ListOptions) (store.Page[store.Application], error) {
	return page(f.apps, opts), nil
}

func (f *fakeAuditStore) VerifyChain(_ context.Context, id string) (store.Report, error) {
	rep := store.Report{SelectionID: id, OK: true}
	prev := ""
	for i, e := range f.events {
		switch {
		case e.Seq != int64(i+1):
			rep.First = &store.Finding{Kind: store.FindingMissingEvent, Seq: int64(i + 1), Message: "missing"}
		case e.PrevHash != prev:
			rep.First = &store.Finding{Kind: store.FindingChainBroken, Seq: e.Seq, Message: "broken"}
		case store.ChainHash(e) != e.Hash:
			rep.First = &store.Finding{Kind: store.FindingHashMismatch, Seq: e.Seq, Message: "changed"}
		}
		if rep.First != nil {
			rep.OK = false
			return rep, nil
		}
		prev = e.Hash
		rep.EventsChecked++
	}
	return rep, nil
}

func (f *fakeAuditStore) VerifySnapshot(_ context.Context, _, key string) (store.SnapshotCheck, error) {
	d, ok := f.snapshots[key]
	if !ok {
		return store.SnapshotCheck{}, store.ErrNotFound
	}
	return store.SnapshotCheck{Key: key, Recorded: d, Recomputed: d, OK: true}, nil
}

func (f *fakeAuditStore) ReadProjection(_ context.Context, id string) ([]store.ProjectionRow, error) {
	if id != f.selection.ID {
		return nil, store.ErrNotFound
	}
	f.projectionReads++
	if f.firstProjection != nil && f.projectionReads == 1 {
		return f.firstProjection, nil
	}
	return f.projection, nil
}

// storeRows converts the library's rows to the store's.
func storeRows(rows []audit.ProjectionRow) []store.ProjectionRow {
	out := make([]store.ProjectionRow, len(rows))
	for i, r := range rows {
		out[i] = store.ProjectionRow{Table: r.Table, Key: r.Key, Columns: r.Columns, StoreOnly: r.StoreOnly}
	}
	return out
}

// edit changes one column of the first projected row of table that change alters, as an
// SQL UPDATE in the store would.
func (f *fakeAuditStore) edit(t *testing.T, table, column string, change func(string) string) string {
	t.Helper()
	for i, r := range f.projection {
		if r.Table != table {
			continue
		}
		if _, ok := r.Columns[column]; !ok {
			t.Fatalf("%s has no column %s", table, column)
		}
		cols := make(map[string]string, len(r.Columns))
		for k, v := range r.Columns {
			cols[k] = v
		}
		if cols[column] = change(cols[column]); cols[column] == r.Columns[column] {
			continue
		}
		f.projection[i].Columns = cols
		return r.Key
	}
	t.Fatalf("no %s row to change", table)
	return ""
}

// relink recomputes every event's links and hashes, as a forger rewriting the whole chain
// in the database would.
func (f *fakeAuditStore) relink() {
	prev := ""
	for i := range f.events {
		f.events[i].PrevHash = prev
		f.events[i].Hash = store.ChainHash(f.events[i])
		prev = f.events[i].Hash
	}
}

// recordedSelection is the happy-path history the workflows package recorded, with the
// store a correct projection of it would hold: one audit event per applied record (after the
// selection's creation, which the store records on its own), the snapshot digests, and the
// applications as the replayed state leaves them.
type recordedSelection struct {
	history *fakeHistory
	store   *fakeAuditStore
	facts   audit.HistoryFacts
}

func loadRecorded(t *testing.T) recordedSelection {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "workflows", "testdata", "happy-path.json"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := audit.ParseHistory(b)
	if err != nil {
		t.Fatal(err)
	}
	rec := recordedFrom(t, h)
	if len(rec.store.apps) == 0 || len(rec.store.events) < 5 {
		t.Fatalf("the recorded selection is too small to test with: %d applications, %d events", len(rec.store.apps), len(rec.store.events))
	}
	return rec
}

// recordedFrom is a selection whose workflow has the one run h, with its store as above.
func recordedFrom(t *testing.T, h *historypb.History) recordedSelection {
	t.Helper()
	facts, fs := audit.ExtractFacts([]*historypb.History{h})
	if len(fs) > 0 {
		t.Fatalf("recorded history: %v", fs)
	}
	rr, err := audit.ReplayHistories(context.Background(), []*historypb.History{h})
	if err != nil || rr.State == nil {
		t.Fatalf("replay the recorded history: %v %v", err, rr.Findings)
	}
	st := &fakeAuditStore{
		selection: store.Selection{ID: facts.SelectionID, WorkflowID: facts.WorkflowID, Stage: string(rr.State.Stage)},
		snapshots: map[string]string{},
	}
	add := func(e store.AuditEvent) {
		e.SelectionID, e.Seq = facts.SelectionID, int64(len(st.events)+1)
		e.WorkflowTime = e.WorkflowTime.UTC().Truncate(time.Microsecond)
		if e.Payload == nil {
			e.Payload = json.RawMessage("null")
		}
		canon, err := audit.CanonicalJSON(e.Payload)
		if err != nil {
			t.Fatal(err)
		}
		e.Payload = canon
		sum := sha256.Sum256(canon)
		e.PayloadSHA256 = hex.EncodeToString(sum[:])
		st.events = append(st.events, e)
	}
	add(store.AuditEvent{WorkflowID: facts.WorkflowID, UpdateID: "req-create", ActorSubject: "admin-1", Role: "ROLE_ADMIN",
		Action: "CreateSelection", Target: "selections/" + facts.SelectionID, WorkflowTime: facts.Runs[0].StartedAt.Add(-time.Second)})
	for _, r := range facts.Records {
		if !r.Applied() {
			continue
		}
		rec := r.Record
		add(store.AuditEvent{WorkflowID: rec.WorkflowID, UpdateID: rec.Key, CommandSeq: rec.Seq,
			ActorSubject: rec.Actor.Subject, Role: string(rec.Actor.Role), Action: rec.Kind,
			Target: "selections/" + rec.SelectionID, Reason: rec.Reason, WorkflowTime: rec.At, Payload: r.Args})
	}
	st.relink()
	for _, s := range facts.Snapshots {
		st.snapshots[s.Request.Key] = s.Digest
	}
	st.projection = storeRows(audit.ExpectedProjection(facts))
	for _, a := range rr.State.Applications {
		st.apps = append(st.apps, store.Application{ID: a.ID, SelectionID: facts.SelectionID, State: string(a.State),
			CurrentStage: expectedStage(rr.State.Stage, a), Rank: a.Rank, FinalScore: int64(a.Final)})
	}
	return recordedSelection{
		history: &fakeHistory{workflowID: facts.WorkflowID, runs: []*historypb.History{h}},
		store:   st, facts: facts,
	}
}

func testAuditKey() ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("seleksi server audit test key"))
	return ed25519.NewKeyFromSeed(seed[:])
}

func newTestAuditServer(t *testing.T, rec recordedSelection) *AuditServer {
	t.Helper()
	key := testAuditKey()
	now := func() time.Time { return time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC) }
	s, err := NewAuditServer(rec.store, rec.history, key, key.Public().(ed25519.PublicKey), slog.New(slog.NewTextHandler(io.Discard, nil)), now)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewAuditServerRefusesMismatchedKey(t *testing.T) {
	other := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	if _, err := NewAuditServer(&fakeAuditStore{}, &fakeHistory{}, testAuditKey(), other.Public().(ed25519.PublicKey), slog.Default(), nil); err == nil {
		t.Fatal("a signer whose key is not the published one was accepted")
	}
}

func TestAuditGetSigningKey(t *testing.T) {
	s := newTestAuditServer(t, loadRecorded(t))
	want := testAuditKey().Public().(ed25519.PublicKey)
	resp, err := s.GetSigningKey(context.Background(), &seleksiv1.GetSigningKeyRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetKeyId() != audit.KeyFingerprint(want) || resp.GetAlgorithm() != "EdDSA" {
		t.Errorf("key_id %q algorithm %q, want %q EdDSA", resp.GetKeyId(), resp.GetAlgorithm(), audit.KeyFingerprint(want))
	}
	block, rest := pem.Decode([]byte(resp.GetPublicKeyPem()))
	if block == nil || block.Type != "PUBLIC KEY" || len(strings.TrimSpace(string(rest))) > 0 {
		t.Fatalf("public_key_pem is not one PUBLIC KEY block: %q", resp.GetPublicKeyPem())
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := pub.(ed25519.PublicKey); !ok || !k.Equal(want) {
		t.Errorf("PEM key %T %x, want %x", pub, pub, want)
	}
	var jwk struct{ Kty, Crv, X, Kid string }
	if err := json.Unmarshal([]byte(resp.GetJwk()), &jwk); err != nil {
		t.Fatal(err)
	}
	x, err := base64.RawURLEncoding.DecodeString(jwk.X)
	if err != nil {
		t.Fatal(err)
	}
	if jwk.Kty != "OKP" || jwk.Crv != "Ed25519" || !ed25519.PublicKey(x).Equal(want) || jwk.Kid != resp.GetKeyId() {
		t.Errorf("jwk %s does not describe the key", resp.GetJwk())
	}
}

func TestAuditListAuditEvents(t *testing.T) {
	rec := loadRecorded(t)
	s := newTestAuditServer(t, rec)
	var got []*seleksiv1.AuditEvent
	req := &seleksiv1.ListAuditEventsRequest{Parent: "selections/" + rec.facts.SelectionID, PageSize: 5}
	for {
		resp, err := s.ListAuditEvents(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, resp.GetAuditEvents()...)
		if resp.GetNextPageToken() == "" {
			break
		}
		req.PageToken = resp.GetNextPageToken()
	}
	if len(got) != len(rec.store.events) {
		t.Fatalf("%d events, want %d", len(got), len(rec.store.events))
	}
	for i, e := range got {
		want := rec.store.events[i]
		if e.GetName() != fmt.Sprintf("selections/%s/auditEvents/%d", rec.facts.SelectionID, i+1) || e.GetSequence() != uint64(i+1) ||
			e.GetHash() != want.Hash || e.GetPrevHash() != want.PrevHash || e.GetAction() != want.Action || e.GetRole().String() != want.Role {
			t.Errorf("event %d = %v, want %+v", i+1, e, want)
		}
	}
	_, err := s.ListAuditEvents(context.Background(), &seleksiv1.ListAuditEventsRequest{Parent: "selections/nope"})
	if status.Code(err) != codes.NotFound {
		t.Errorf("unknown selection: %v, want NotFound", err)
	}
}

func TestAuditExportHistory(t *testing.T) {
	for _, unlisted := range []bool{false, true} {
		t.Run(fmt.Sprintf("unlisted=%v", unlisted), func(t *testing.T) {
			rec := loadRecorded(t)
			rec.history.unlisted = unlisted
			s := newTestAuditServer(t, rec)
			ctx := context.Background()
			e, err := export(t, s, "selections/"+rec.facts.SelectionID)
			if err != nil {
				t.Fatal(err)
			}
			if q := rec.history.queries; len(q) != 1 || q[0] != "WorkflowId = '"+rec.facts.WorkflowID+"'" {
				t.Errorf("visibility queries %q", q)
			}
			key, err := s.GetSigningKey(ctx, &seleksiv1.GetSigningKeyRequest{})
			if err != nil {
				t.Fatal(err)
			}
			block, _ := pem.Decode([]byte(key.GetPublicKeyPem()))
			pub, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			b := e.bundle
			if err := b.VerifySignature(pub.(ed25519.PublicKey)); err != nil {
				t.Errorf("the signature does not verify with the published key: %v", err)
			}
			// One label for the algorithm: the key's, the JWK's alg and the bundle's.
			h := e.header
			if h.GetKeyId() != key.GetKeyId() || h.GetSignatureAlgorithm() != key.GetAlgorithm() || h.GetSignatureAlgorithm() != "EdDSA" ||
				h.GetContentType() != "application/zip" || h.GetFileName() != rec.facts.SelectionID+"-20270301T090000Z.bundle.zip" ||
				!h.GetCreateTime().AsTime().Equal(b.Manifest.CreatedAt) {
				t.Errorf("header %v", h)
			}
			m := b.Manifest
			if m.SelectionID != rec.facts.SelectionID || m.WorkflowID != rec.facts.WorkflowID ||
				m.AuditHead.Seq != int64(len(rec.store.events)) || m.KeyFingerprint != key.GetKeyId() {
				t.Errorf("manifest %+v", m)
			}
			if fs := b.CheckParts(); len(fs) > 0 {
				t.Errorf("parts: %v", fs)
			}
			hs := e.historyParts()
			if len(hs) != 1 {
				t.Fatalf("%d histories, want 1", len(hs))
			}
			if h, err := audit.ParseHistory(hs[0]); err != nil || len(h.GetEvents()) != len(rec.history.runs[0].GetEvents()) {
				t.Errorf("the history part does not hold the run's history: %v", err)
			}
			if len(b.Events) != len(rec.store.events) {
				t.Errorf("the events part holds %d events, want %d", len(b.Events), len(rec.store.events))
			}
			// The published results travel with the bundle, as the API documents.
			if len(b.Projection) != len(rec.store.projection) {
				t.Fatalf("the projection part holds %d rows, want %d", len(b.Projection), len(rec.store.projection))
			}
			if !slices.ContainsFunc(b.Projection, func(r audit.ProjectionRow) bool {
				return r.Table == store.TableStageResults && r.Columns["entries"] != ""
			}) {
				t.Error("the projection part holds no published stage result")
			}
			rep, err := audit.VerifyBundle(ctx, b, pub.(ed25519.PublicKey))
			if err != nil || !rep.OK() {
				t.Errorf("the exported bundle does not verify: %v %v", err, rep.Findings)
			}
		})
	}
}

func TestAuditExportHistoryErrors(t *testing.T) {
	rec := loadRecorded(t)
	s := newTestAuditServer(t, rec)
	_, err := export(t, s, "selections/nope")
	if status.Code(err) != codes.NotFound {
		t.Errorf("unknown selection: %v, want NotFound", err)
	}
	rec.history.runs = nil
	_, err = export(t, s, "selections/"+rec.facts.SelectionID)
	if status.Code(err) != codes.FailedPrecondition || strings.Contains(status.Convert(err).Message(), "workflow execution") {
		t.Errorf("selection without a workflow: %v, want FailedPrecondition without Temporal's text", err)
	}
}

func TestAuditVerifySelection(t *testing.T) {
	// seqOf finds the audit event of the first applied record of kind.
	seqOf := func(rec recordedSelection, kind string) int {
		for i, e := range rec.store.events {
			if e.Action == kind {
				return i
			}
		}
		t.Fatalf("no %s event", kind)
		return 0
	}
	type want struct {
		kind seleksiv1.FindingKind
		seq  int64 // 0: any
		// historyEvents requires the finding to name history events.
		historyEvents bool
		// neighbours accepts a finding that names the events around the tampered one, as a
		// broken link after a deletion does.
		neighbours bool
		// names is a part of the message the finding must contain (table, row, column).
		names string
	}
	for _, tc := range []struct {
		name   string
		replay bool
		// noHistory: there is nothing to replay, so replayed stays false.
		noHistory bool
		tamper    func(rec recordedSelection)
		want      []want
	}{
		{name: "untampered", replay: false},
		{name: "untampered, replayed", replay: true},
		{
			name: "a reason changed in the database",
			tamper: func(rec recordedSelection) {
				i := seqOf(rec, workflows.CmdAdvance)
				rec.store.events[i].Reason += " (diubah)"
			},
			want: []want{{kind: seleksiv1.FindingKind_FINDING_KIND_CHAIN_BROKEN}, {kind: seleksiv1.FindingKind_FINDING_KIND_HASH_MISMATCH}},
		},
		{
			name: "a reason changed and the chain rewritten",
			tamper: func(rec recordedSelection) {
				i := seqOf(rec, workflows.CmdAdvance)
				rec.store.events[i].Reason += " (diubah)"
				rec.store.relink()
			},
			// The chain is intact again, but the history still has the original reason.
			want: []want{{kind: seleksiv1.FindingKind_FINDING_KIND_UNEXPECTED_EVENT, historyEvents: true}},
		},
		{
			name: "an event deleted",
			tamper: func(rec recordedSelection) {
				i := seqOf(rec, workflows.CmdAdvance)
				rec.store.events = slices.Delete(rec.store.events, i, i+1)
			},
			want: []want{{kind: seleksiv1.FindingKind_FINDING_KIND_CHAIN_BROKEN, neighbours: true},
				{kind: seleksiv1.FindingKind_FINDING_KIND_MISSING_EVENT}, {kind: seleksiv1.FindingKind_FINDING_KIND_MISSING_EVENT, historyEvents: true}},
		},
		{
			name:   "a rank changed in the projection",
			replay: true,
			tamper: func(rec recordedSelection) { rec.store.apps[0].Rank += 7 },
			want:   []want{{kind: seleksiv1.FindingKind_FINDING_KIND_PROJECTION_MISMATCH}},
		},
		{
			// The defect of issue 9: a published component score changed in the store was
			// served and verified OK.
			name:   "a published score changed in the store",
			replay: true,
			tamper: func(rec recordedSelection) {
				rec.store.edit(t, store.TableApplicationResults, "scores", func(s string) string {
					return strings.Replace(s, `"score":`, `"score":1`, 1)
				})
			},
			want: []want{{kind: seleksiv1.FindingKind_FINDING_KIND_PROJECTION_MISMATCH, names: "[application_results "}},
		},
		{
			name: "a stage result's entries changed, without replay",
			tamper: func(rec recordedSelection) {
				rec.store.edit(t, store.TableStageResults, "entries", func(s string) string {
					return strings.Replace(s, "OUTCOME_FAIL", "OUTCOME_PASS", 1)
				})
			},
			want: []want{{kind: seleksiv1.FindingKind_FINDING_KIND_PROJECTION_MISMATCH, names: "column entries]"}},
		},
		{
			name:      "the history is gone",
			replay:    true,
			noHistory: true,
			tamper:    func(rec recordedSelection) { rec.history.runs = nil },
			want:      []want{{kind: seleksiv1.FindingKind_FINDING_KIND_HISTORY_UNAVAILABLE}},
		},
		{
			name: "a snapshot's rows changed",
			tamper: func(rec recordedSelection) {
				rec.store.snapshots[rec.facts.Snapshots[0].Request.Key] = strings.Repeat("0", 64)
			},
			want: []want{{kind: seleksiv1.FindingKind_FINDING_KIND_SNAPSHOT_MISMATCH, historyEvents: true}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := loadRecorded(t)
			var tamperedSeq int64
			if tc.tamper != nil {
				i := seqOf(rec, workflows.CmdAdvance)
				tamperedSeq = rec.store.events[i].Seq
				tc.tamper(rec)
			}
			s := newTestAuditServer(t, rec)
			resp, err := s.VerifySelection(context.Background(), &seleksiv1.VerifySelectionRequest{
				Name: "selections/" + rec.facts.SelectionID, Replay: tc.replay})
			if err != nil {
				t.Fatal(err)
			}
			rep := resp.GetReport()
			if rep.GetReplayed() != (tc.replay && !tc.noHistory) || rep.GetVerifyTime() == nil || rep.GetEventsChecked() != uint64(len(rec.store.events)) {
				t.Errorf("replayed %v verify_time %v events_checked %d", rep.GetReplayed(), rep.GetVerifyTime(), rep.GetEventsChecked())
			}
			if len(tc.want) == 0 {
				if !rep.GetOk() || len(rep.GetFindings()) > 0 {
					t.Fatalf("ok %v, findings %v", rep.GetOk(), rep.GetFindings())
				}
				return
			}
			if rep.GetOk() {
				t.Fatal("ok on a tampered selection")
			}
			for _, w := range tc.want {
				found := slices.ContainsFunc(rep.GetFindings(), func(f *seleksiv1.Finding) bool {
					if f.GetKind() != w.kind || (w.historyEvents && len(f.GetHistoryEventIds()) == 0) || !strings.Contains(f.GetMessage(), w.names) {
						return false
					}
					// Findings about the audit chain name the event tampered with.
					switch w.kind {
					case seleksiv1.FindingKind_FINDING_KIND_CHAIN_BROKEN, seleksiv1.FindingKind_FINDING_KIND_HASH_MISMATCH,
						seleksiv1.FindingKind_FINDING_KIND_UNEXPECTED_EVENT, seleksiv1.FindingKind_FINDING_KIND_MISSING_EVENT:
						if w.neighbours {
							return slices.Contains(f.GetEventSequences(), uint64(tamperedSeq-1)) &&
								slices.Contains(f.GetEventSequences(), uint64(tamperedSeq+1))
						}
						if w.historyEvents {
							return true // the event is gone; the history names what it should have recorded
						}
						return slices.Contains(f.GetEventSequences(), uint64(tamperedSeq))
					}
					return true
				})
				if !found {
					t.Errorf("no %s finding naming seq %d; findings:", w.kind, tamperedSeq)
					for _, f := range rep.GetFindings() {
						t.Logf("  %s seqs %v events %v: %s", f.GetKind(), f.GetEventSequences(), f.GetHistoryEventIds(), f.GetMessage())
					}
				}
			}
		})
	}
}

func TestVisibilityQuery(t *testing.T) {
	for _, tc := range []struct{ id, want string }{
		{"selection-s1", `WorkflowId = 'selection-s1'`},
		{`x' OR WorkflowId != '`, `WorkflowId = 'x\' OR WorkflowId != \''`},
		{`a\`, `WorkflowId = 'a\\'`},
		{"a\nb", ""},
		{"", ""},
	} {
		got, err := visibilityQuery(tc.id)
		if (err != nil) != (tc.want == "") || got != tc.want {
			t.Errorf("visibilityQuery(%q) = %q, %v; want %q", tc.id, got, err, tc.want)
		}
	}
}

func TestFindingKindsCoverLibrary(t *testing.T) {
	kinds := findingKinds()
	for _, k := range []string{audit.KindSignatureInvalid, audit.KindPartDigestMismatch, audit.KindPartMissing, audit.KindPartUnlisted,
		audit.KindPartInvalid, audit.KindNondeterminism, audit.KindReplayFailed, audit.KindStateMismatch, audit.KindRunChainBroken,
		audit.KindAuditChainBroken, audit.KindAuditPayloadMismatch, audit.KindAuditEventMissing, audit.KindAuditEventUnmatched,
		audit.KindAuditEventMismatch, audit.KindSnapshotDigestMismatch, audit.KindProjectionMismatch} {
		if kinds[k] == seleksiv1.FindingKind_FINDING_KIND_UNSPECIFIED {
			t.Errorf("library finding kind %s has no API kind", k)
		}
	}
}

func TestCompareProjection(t *testing.T) {
	state := &workflows.SelectionState{Stage: workflows.StageInterview, Applications: []workflows.Application{
		{ID: "a1", State: workflows.AppInProgress, Final: 8150},
		{ID: "a2", State: workflows.AppEliminated, EliminatedAt: workflows.StageCompetencyTest},
		{ID: "a3", State: workflows.AppNotSelected}, // released by a cancellation: no stage kept
	}}
	projection := func() []store.Application {
		return []store.Application{
			{ID: "a1", State: string(workflows.AppInProgress), CurrentStage: string(workflows.StageInterview), FinalScore: 8150},
			{ID: "a2", State: string(workflows.AppEliminated), CurrentStage: string(workflows.StageCompetencyTest)},
			{ID: "a3", State: string(workflows.AppNotSelected), CurrentStage: string(workflows.StageInterview)},
			// Withdrawn before the close: the workflow never saw it.
			{ID: "a0", State: store.StateWithdrawn, EliminatedStage: store.StageAnnouncement, CurrentStage: store.StageAnnouncement},
		}
	}
	sel := store.Selection{Stage: string(workflows.StageInterview)}
	for _, tc := range []struct {
		name   string
		edit   func(sel *store.Selection, apps []store.Application) []store.Application
		wantIn []string // substrings of the findings' messages, one finding each
	}{
		{name: "agrees", edit: func(_ *store.Selection, apps []store.Application) []store.Application { return apps }},
		{name: "stage", edit: func(_ *store.Selection, apps []store.Application) []store.Application {
			apps[0].CurrentStage = string(workflows.StageCompetencyTest)
			return apps
		}, wantIn: []string{"a1: current stage"}},
		{name: "state and score", edit: func(_ *store.Selection, apps []store.Application) []store.Application {
			apps[1].State, apps[0].FinalScore = string(workflows.AppInProgress), 9000
			return apps
		}, wantIn: []string{"a1: final score", "a2: state"}},
		{name: "selection stage", edit: func(sel *store.Selection, apps []store.Application) []store.Application {
			sel.Stage = string(workflows.StageClosed)
			return apps
		}, wantIn: []string{"the selection is at"}},
		{name: "missing and extra", edit: func(_ *store.Selection, apps []store.Application) []store.Application {
			return append(apps[1:], store.Application{ID: "a9", State: string(workflows.AppInProgress)})
		}, wantIn: []string{"a1 is in the rebuilt state but not in the store", "a9 is in the store but not"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sel
			got := compareProjection(state, s, tc.edit(&s, projection()))
			if len(got) != len(tc.wantIn) {
				t.Fatalf("findings %v, want %d", got, len(tc.wantIn))
			}
			for i, f := range got {
				if f.GetKind() != seleksiv1.FindingKind_FINDING_KIND_PROJECTION_MISMATCH || !strings.Contains(f.GetMessage(), tc.wantIn[i]) {
					t.Errorf("finding %d = %s %q, want PROJECTION_MISMATCH about %q", i, f.GetKind(), f.GetMessage(), tc.wantIn[i])
				}
			}
		})
	}
}

// TestAuditVerifyRunningSelection: while the selection runs, the store commits a record
// before the history shows its activity complete, and a command may be applied between the
// reading of the projection and that of the history. Neither is a finding; a changed score
// still is.
func TestAuditVerifyRunningSelection(t *testing.T) {
	full := loadRecorded(t).history.runs[0]
	// The history up to the scheduling of the second result published (the screening's
	// AdvanceStage record): that record is pending.
	cut, published := -1, 0
	for i, e := range full.GetEvents() {
		a := e.GetActivityTaskScheduledEventAttributes()
		if a.GetActivityType().GetName() == workflows.ActivityApplyCommand && strings.Contains(string(a.GetInput().GetPayloads()[0].GetData()), `"result":`) {
			if published++; published == 2 {
				cut = i
				break
			}
		}
	}
	if cut < 0 {
		t.Fatal("the recorded history publishes fewer than two results")
	}
	open := &historypb.History{Events: full.GetEvents()[:cut+1]}
	for _, tc := range []struct {
		name   string
		setup  func(t *testing.T, rec recordedSelection)
		wantOK bool
		// want and wantIn name a finding expected when the report is not OK.
		want   seleksiv1.FindingKind
		wantIn string
	}{
		{name: "the store has not applied the pending record", wantOK: true},
		{name: "the store has applied the pending record", wantOK: true, setup: func(t *testing.T, rec recordedSelection) {
			facts := rec.facts
			facts.Records = slices.Clone(facts.Records)
			last := &facts.Records[len(facts.Records)-1]
			if last.Status != "pending" {
				t.Fatalf("the last record is %s", last.Status)
			}
			last.Status, last.CompletedEventID = "completed", last.ScheduledEventID+1
			rec.store.projection = storeRows(audit.ExpectedProjection(facts))
		}},
		{name: "a command was applied between the readings", wantOK: true, setup: func(t *testing.T, rec recordedSelection) {
			// The first reading predates the last applied record that changed rows.
			facts := rec.facts
			last := -1
			for i, r := range facts.Records {
				if r.Applied() && (r.Record.Result != nil || len(r.Record.Applications) > 0) {
					last = i
				}
			}
			facts.Records = facts.Records[:last]
			rec.store.firstProjection = storeRows(audit.ExpectedProjection(facts))
		}},
		{name: "an event was appended between the readings", wantOK: true, setup: func(t *testing.T, rec recordedSelection) {
			// The first reading of the chain predates the last applied record's event.
			rec.store.firstEvents = rec.store.events[:len(rec.store.events)-1]
		}},
		{name: "an event appended between the readings disagrees with its record", setup: func(t *testing.T, rec recordedSelection) {
			n := len(rec.store.events)
			rec.store.firstEvents = rec.store.events[:n-1]
			// The late event names another actor, and is rehashed so that the chain alone
			// does not tell.
			late := rec.store.events[n-1]
			late.ActorSubject = "someone-else"
			late.Hash = store.ChainHash(late)
			rec.store.events = append(slices.Clone(rec.store.events[:n-1]), late)
		}, want: seleksiv1.FindingKind_FINDING_KIND_UNEXPECTED_EVENT, wantIn: "disagrees with"},
		{name: "an applied record has no event", setup: func(t *testing.T, rec recordedSelection) {
			rec.store.events = rec.store.events[:len(rec.store.events)-1]
		}, want: seleksiv1.FindingKind_FINDING_KIND_MISSING_EVENT, wantIn: "was applied but has no audit event"},
		{name: "a published outcome changed", setup: func(t *testing.T, rec recordedSelection) {
			rec.store.edit(t, store.TableApplicationResults, "outcome", func(s string) string { return s + "X" })
		}, want: seleksiv1.FindingKind_FINDING_KIND_PROJECTION_MISMATCH, wantIn: "column outcome]"},
	} {
		for _, replay := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/replay=%v", tc.name, replay), func(t *testing.T) {
				rec := recordedFrom(t, open)
				if tc.setup != nil {
					tc.setup(t, rec)
				}
				resp, err := newTestAuditServer(t, rec).VerifySelection(context.Background(),
					&seleksiv1.VerifySelectionRequest{Name: "selections/" + rec.facts.SelectionID, Replay: replay})
				if err != nil {
					t.Fatal(err)
				}
				rep := resp.GetReport()
				if rep.GetOk() != tc.wantOK {
					t.Fatalf("ok %v, want %v; findings %v", rep.GetOk(), tc.wantOK, rep.GetFindings())
				}
				if !tc.wantOK && !slices.ContainsFunc(rep.GetFindings(), func(f *seleksiv1.Finding) bool {
					return f.GetKind() == tc.want && strings.Contains(f.GetMessage(), tc.wantIn)
				}) {
					t.Fatalf("no %s finding says %q: %v", tc.want, tc.wantIn, rep.GetFindings())
				}
			})
		}
	}
}
