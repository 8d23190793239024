package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/types/known/timestamppb"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/audit"
	"github.com/bkpsdm/seleksi/internal/store"
)

// fakeArchive holds archived runs, as the store's history_archive does.
type fakeArchive struct{ runs []store.ArchivedRun }

func (f *fakeArchive) ListArchivedRuns(_ context.Context, selectionID string) ([]store.ArchivedRun, error) {
	var out []store.ArchivedRun
	for _, r := range f.runs {
		if r.SelectionID == selectionID {
			r.History = nil
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *fakeArchive) ArchivedHistory(_ context.Context, selectionID, runID string) ([]byte, error) {
	for _, r := range f.runs {
		if r.SelectionID == selectionID && r.RunID == runID {
			return r.History, nil
		}
	}
	return nil, store.ErrNotFound
}

// archiveRecorded archives the recorded run as the archiver would: the run's history in the
// standard JSON form, and its HistoryArchived audit event chained after the others.
func archiveRecorded(t *testing.T, rec recordedSelection) *fakeArchive {
	t.Helper()
	return &fakeArchive{runs: []store.ArchivedRun{archiveRun(t, rec, rec.history.runs[0], "WORKFLOW_EXECUTION_STATUS_COMPLETED")}}
}

// archiveRun archives one run of the recorded selection's workflow.
func archiveRun(t *testing.T, rec recordedSelection, h *historypb.History, status string) store.ArchivedRun {
	t.Helper()
	b, err := audit.MarshalHistory(h)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	runID := startedRunID(h)
	r := store.ArchivedRun{SelectionID: rec.facts.SelectionID, WorkflowID: rec.facts.WorkflowID, RunID: runID,
		StartTime: h.GetEvents()[0].GetEventTime().AsTime(), CloseTime: h.GetEvents()[len(h.GetEvents())-1].GetEventTime().AsTime(),
		CloseStatus: status, History: b, SHA256: hex.EncodeToString(sum[:])}
	pj, err := json.Marshal(store.HistoryArchivedPayload{RunID: runID, SHA256: r.SHA256, CloseStatus: r.CloseStatus})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := audit.CanonicalJSON(pj)
	if err != nil {
		t.Fatal(err)
	}
	psum := sha256.Sum256(payload)
	rec.store.events = append(rec.store.events, store.AuditEvent{
		SelectionID: rec.facts.SelectionID, Seq: int64(len(rec.store.events) + 1), WorkflowID: rec.facts.WorkflowID,
		ActorSubject: "seleksi", Role: "ROLE_SYSTEM", Action: store.ActionHistoryArchived,
		Target: store.ArchivedRunTarget(rec.facts.SelectionID, runID), WorkflowTime: r.CloseTime.UTC(),
		Payload: payload, PayloadSHA256: hex.EncodeToString(psum[:]),
	})
	rec.store.relink()
	return r
}

// TestAuditFromArchive: Temporal has deleted the selection's history (retention passed), the
// archive holds the run; the selection is still exported and verifies, replay included.
func TestAuditFromArchive(t *testing.T) {
	for _, temporalHasIt := range []bool{false, true} {
		t.Run(fmt.Sprintf("temporal=%v", temporalHasIt), func(t *testing.T) {
			rec := loadRecorded(t)
			arch := archiveRecorded(t, rec)
			if !temporalHasIt {
				rec.history.runs = nil
			}
			s := newTestAuditServer(t, rec)
			s.UseArchive(arch)
			ctx := context.Background()
			name := "selections/" + rec.facts.SelectionID

			e, err := export(t, s, name)
			if err != nil {
				t.Fatalf("export: %v", err)
			}
			// The bundle carries the archived bytes unchanged.
			if hs := e.historyParts(); len(hs) != 1 || string(hs[0]) != string(arch.runs[0].History) {
				t.Errorf("the bundle's history is not the archived history")
			}
			for _, replay := range []bool{false, true} {
				v, err := s.VerifySelection(ctx, &seleksiv1.VerifySelectionRequest{Name: name, Replay: replay})
				if err != nil {
					t.Fatalf("verify (replay %v): %v", replay, err)
				}
				if rep := v.GetReport(); !rep.GetOk() || len(rep.GetFindings()) > 0 || rep.GetReplayed() != replay {
					t.Errorf("verify (replay %v): ok %v replayed %v findings %v", replay, rep.GetOk(), rep.GetReplayed(), rep.GetFindings())
				}
			}
		})
	}
}

// TestAuditArchiveTampered: an archived history changed after it was archived no longer
// hashes as its audit event recorded, which verification reports.
func TestAuditArchiveTampered(t *testing.T) {
	rec := loadRecorded(t)
	arch := archiveRecorded(t, rec)
	rec.history.runs = nil
	// Still valid JSON of the same history, but not the bytes archived.
	var v any
	if err := json.Unmarshal(arch.runs[0].History, &v); err != nil {
		t.Fatal(err)
	}
	arch.runs[0].History, _ = json.Marshal(v)
	s := newTestAuditServer(t, rec)
	s.UseArchive(arch)
	resp, err := s.VerifySelection(context.Background(), &seleksiv1.VerifySelectionRequest{Name: "selections/" + rec.facts.SelectionID})
	if err != nil {
		t.Fatal(err)
	}
	rep := resp.GetReport()
	seq := uint64(len(rec.store.events))
	if rep.GetOk() || !slices.ContainsFunc(rep.GetFindings(), func(f *seleksiv1.Finding) bool {
		return f.GetKind() == seleksiv1.FindingKind_FINDING_KIND_HASH_MISMATCH && slices.Contains(f.GetEventSequences(), seq)
	}) {
		t.Errorf("tampered archive: ok %v findings %v; want HASH_MISMATCH naming audit event %d", rep.GetOk(), rep.GetFindings(), seq)
	}
}

// TestAuditArchiveAndTemporal: a workflow that continued as new, whose first run Temporal
// has deleted (it is in the archive) while the second still runs (Temporal has it alone).
// The export holds both, in order: the archived bytes of the first, Temporal's second.
func TestAuditArchiveAndTemporal(t *testing.T) {
	rec := loadRecorded(t)
	wf := rec.facts.WorkflowID
	t0 := time.Date(2027, 1, 4, 1, 0, 0, 0, time.UTC)
	started := func(runID, prev string, at time.Time) *historypb.HistoryEvent {
		return &historypb.HistoryEvent{EventId: 1, EventTime: timestamppb.New(at), EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
			Attributes: &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{
				OriginalExecutionRunId: runID, ContinuedExecutionRunId: prev}}}
	}
	run1 := &historypb.History{Events: []*historypb.HistoryEvent{started("run-1", "", t0),
		{EventId: 2, EventTime: timestamppb.New(t0.Add(time.Hour)), EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
			Attributes: &historypb.HistoryEvent_WorkflowExecutionContinuedAsNewEventAttributes{WorkflowExecutionContinuedAsNewEventAttributes: &historypb.WorkflowExecutionContinuedAsNewEventAttributes{
				NewExecutionRunId: "run-2"}}}}}
	run2 := &historypb.History{Events: []*historypb.HistoryEvent{started("run-2", "run-1", t0.Add(time.Hour))}}
	arch := &fakeArchive{runs: []store.ArchivedRun{archiveRun(t, rec, run1, "WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW")}}
	for _, unlisted := range []bool{false, true} {
		t.Run(fmt.Sprintf("unlisted=%v", unlisted), func(t *testing.T) {
			rec.history = &fakeHistory{workflowID: wf, runs: []*historypb.History{run2}, unlisted: unlisted}
			s := newTestAuditServer(t, rec)
			s.UseArchive(arch)
			e, err := export(t, s, "selections/"+rec.facts.SelectionID)
			if err != nil {
				t.Fatal(err)
			}
			hs := e.historyParts()
			if len(hs) != 2 || string(hs[0]) != string(arch.runs[0].History) {
				t.Fatalf("%d histories; the first is the archived run: %v", len(hs), len(hs) > 0 && string(hs[0]) == string(arch.runs[0].History))
			}
			h2, err := audit.ParseHistory(hs[1])
			if err != nil || startedRunID(h2) != "run-2" {
				t.Errorf("the second history is not Temporal's run-2: %v", err)
			}
		})
	}
}
