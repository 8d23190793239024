package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// commandStore is the part of the store the command handlers below read; every other method
// of Store panics (nil embedded interface), so a handler that reads more is caught.
type commandStore struct {
	Store
	app       store.Application
	withdrawn []store.WithdrawInput
	// withdrawErr is what WithdrawBeforeClose answers instead of withdrawing.
	withdrawErr error
}

func (s *commandStore) ActorID(ctx context.Context, issuer, subject string) (string, error) {
	return fakeActors{}.ActorID(ctx, issuer, subject)
}

func (s *commandStore) ActorSubjects(ctx context.Context, ids []string) (map[string]string, error) {
	return fakeActors{}.ActorSubjects(ctx, ids)
}

// RecordsActorIDs: the selection was created with actor IDs.
func (s *commandStore) RecordsActorIDs(context.Context, string) (bool, error) { return true, nil }

func (s *commandStore) GetApplication(context.Context, string, string) (store.Application, error) {
	return s.app, nil
}

func (s *commandStore) WithdrawBeforeClose(_ context.Context, in store.WithdrawInput) (store.Application, error) {
	if s.withdrawErr != nil {
		return store.Application{}, s.withdrawErr
	}
	s.withdrawn = append(s.withdrawn, in)
	a := s.app
	a.State, a.EliminatedStage, a.EliminationReason, a.Status = store.StateWithdrawn, store.StageAnnouncement, in.Reason, *in.Status
	return a, nil
}

func (s *commandStore) GetSelection(context.Context, string) (store.Selection, error) {
	return store.Selection{ID: "kadis-2026", Stage: string(workflows.StageAdministrativeScreening)}, nil
}

func (s *commandStore) GetSelectionIntake(context.Context, string) (store.SelectionIntake, error) {
	return store.SelectionIntake{Stage: string(workflows.StageAdministrativeScreening)}, nil
}

// CommandAnswer finds no earlier command: every request in these tests is new.
func (s *commandStore) CommandAnswer(context.Context, string, string) (store.CommandAnswer, error) {
	return store.CommandAnswer{}, store.ErrNotFound
}

func (s *commandStore) ApplicationCounts(context.Context, string) (store.ApplicationCounts, error) {
	return store.ApplicationCounts{}, nil
}

func (s *commandStore) GetStageResult(context.Context, string, string, int) (store.StageResult, error) {
	return store.StageResult{}, store.ErrNotFound
}

func candidateCtx(subject string) context.Context {
	return auth.WithPrincipal(context.Background(), auth.Principal{Subject: subject, Role: auth.RoleCandidate})
}

// TestWithdrawDuringAnnouncementGoesToTheStore: while the announcement is open the
// application is not in the workflow, so the withdrawal is written to the store (which
// leaves it out of the close's snapshot) and the candidate sees WITHDRAWN; after the close,
// and in the moment between the window's end and the recorded close, it goes to the workflow.
func TestWithdrawDuringAnnouncementGoesToTheStore(t *testing.T) {
	now := time.Date(2026, 7, 8, 3, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		stage       workflows.Stage
		withdrawErr error
		wantStore   bool
		wantUpdate  bool
	}{
		{"announcement open", workflows.StageAnnouncement, nil, true, false},
		{"window just ended, close not recorded", workflows.StageAnnouncement, store.ErrFailedPrecondition, false, true},
		{"after the close", workflows.StageAdministrativeScreening, nil, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &commandStore{withdrawErr: tt.withdrawErr, app: store.Application{ID: "app-1", SelectionID: "kadis-2026", Owner: "act-cand-1",
				State: store.StateSubmitted, CurrentStage: string(tt.stage)}}
			fw := &fakeWorkflows{}
			s := NewApplicationServer(st, fw, testCatalog(t), slog.New(slog.DiscardHandler), func() time.Time { return now })
			resp, err := s.WithdrawApplication(candidateCtx("cand-1"), &seleksiv1.WithdrawApplicationRequest{
				Name: "selections/kadis-2026/applications/app-1", RequestId: "withdraw-0001", Reason: "diterima di instansi lain"})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(st.withdrawn) == 1; got != tt.wantStore {
				t.Fatalf("withdrawn in the store: %v, want %v", got, tt.wantStore)
			}
			if got := fw.got.UpdateName == workflows.UpdateWithdrawApplication; got != tt.wantUpdate {
				t.Fatalf("sent to the workflow: %v (%q), want %v", got, fw.got.UpdateName, tt.wantUpdate)
			}
			if !tt.wantStore {
				return
			}
			in := st.withdrawn[0]
			// The store records the candidate's actor ID, never the token's subject.
			if in.RequestID != "withdraw-0001" || in.Actor.Subject != "act-cand-1" || in.Actor.Role != string(workflows.RoleCandidate) ||
				in.Reason != "diterima di instansi lain" || !in.Now.Equal(now) {
				t.Errorf("store withdrawal %+v", in)
			}
			a := resp.GetApplication()
			if a.GetState() != seleksiv1.ApplicationState_APPLICATION_STATE_WITHDRAWN || a.GetStatusText().GetId() != "Anda telah menarik lamaran." {
				t.Errorf("the candidate sees %v %v", a.GetState(), a.GetStatusText())
			}
		})
	}
}

// TestRecordResultsSendsTheCorrection: the correction flag and its reason reach the workflow.
func TestRecordResultsSendsTheCorrection(t *testing.T) {
	fw := &fakeWorkflows{}
	s := NewSelectionServer(&commandStore{}, fw, testCatalog(t), slog.New(slog.DiscardHandler), SelectionOptions{})
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "m-chair", Role: auth.RoleCommittee})
	_, err := s.RecordResults(ctx, &seleksiv1.RecordResultsRequest{Name: "selections/kadis-2026", RequestId: "record-0001",
		Stage: seleksiv1.Stage_STAGE_ADMINISTRATIVE_SCREENING, Correction: true, CorrectionReason: "salah baris",
		Results: []*seleksiv1.ApplicationResult{{Application: "selections/kadis-2026/applications/app-1", Outcome: seleksiv1.Outcome_OUTCOME_PASS}}})
	if err != nil {
		t.Fatal(err)
	}
	args, ok := fw.got.Args[0].(workflows.RecordResultsArgs)
	if !ok || !args.Correct || args.Reason != "salah baris" || fw.got.UpdateName != workflows.UpdateRecordResults {
		t.Fatalf("update %s with %+v", fw.got.UpdateName, fw.got.Args)
	}
}

// TestCorrectResultSendsTheUpdate: the chair's correction reaches the workflow as
// correctResult with the request ID as its Update ID, and a failed update is not answered OK.
func TestCorrectResultSendsTheUpdate(t *testing.T) {
	fw := &fakeWorkflows{}
	s := NewSelectionServer(&commandStore{}, fw, testCatalog(t), slog.New(slog.DiscardHandler), SelectionOptions{})
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "m-chair", Role: auth.RoleCommittee})
	req := &seleksiv1.CorrectResultRequest{Name: "selections/kadis-2026", RequestId: "correct-0001",
		Stage: seleksiv1.Stage_STAGE_ADMINISTRATIVE_SCREENING, Reason: "usia dihitung dari tahun lahir yang salah",
		Results: []*seleksiv1.ApplicationResult{{Application: "selections/kadis-2026/applications/app-5", Outcome: seleksiv1.Outcome_OUTCOME_PASS}}}
	if _, err := s.CorrectResult(ctx, req); err != nil {
		t.Fatal(err)
	}
	args, ok := fw.got.Args[0].(workflows.CorrectResultArgs)
	if !ok || fw.got.UpdateName != workflows.UpdateCorrectResult || fw.got.UpdateID != "correct-0001" || args.Reason != req.Reason ||
		args.Stage != workflows.StageAdministrativeScreening || len(args.Results) != 1 || args.Results[0].ApplicationID != "app-5" {
		t.Fatalf("update %s %s with %+v", fw.got.UpdateName, fw.got.UpdateID, fw.got.Args)
	}
	rejected := &fakeWorkflows{updateErr: errors.New("unavailable")}
	s = NewSelectionServer(&commandStore{}, rejected, testCatalog(t), slog.New(slog.DiscardHandler), SelectionOptions{})
	if _, err := s.CorrectResult(ctx, req); status.Code(err) == codes.OK {
		t.Fatal("a failed update answered OK")
	}
}

// TestResultBatchesAreBounded: a batch of results too large for the workflow's history to
// hold (the arguments, the record and what a correction replaces, together under Temporal's
// 2 MB) is refused with a field violation on results before anything is sent; one within the
// bound goes through.
func TestResultBatchesAreBounded(t *testing.T) {
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "m-chair", Role: auth.RoleCommittee})
	batch := func(n int) []*seleksiv1.ApplicationResult {
		var rs []*seleksiv1.ApplicationResult
		for i := range n {
			rs = append(rs, &seleksiv1.ApplicationResult{Application: fmt.Sprintf("selections/kadis-2026/applications/app-%04d", i),
				Outcome: seleksiv1.Outcome_OUTCOME_FAIL, Reason: strings.Repeat("alasan panjang ", 133)})
		}
		return rs
	}
	for _, tt := range []struct {
		name string
		n    int
		ok   bool
	}{
		{"100 verdicts with 2 KB reasons", 100, true},
		{"300 verdicts with 2 KB reasons", 300, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fw := &fakeWorkflows{}
			s := NewSelectionServer(&commandStore{}, fw, testCatalog(t), slog.New(slog.DiscardHandler), SelectionOptions{})
			_, err := s.RecordResults(ctx, &seleksiv1.RecordResultsRequest{Name: "selections/kadis-2026", RequestId: "record-0001",
				Stage: seleksiv1.Stage_STAGE_ADMINISTRATIVE_SCREENING, Results: batch(tt.n)})
			sent := fw.got.UpdateName != ""
			if tt.ok {
				if err != nil || !sent {
					t.Fatalf("refused (%v) or not sent", err)
				}
				return
			}
			_, cerr := s.CorrectResult(ctx, &seleksiv1.CorrectResultRequest{Name: "selections/kadis-2026", RequestId: "correct-0001",
				Stage: seleksiv1.Stage_STAGE_ADMINISTRATIVE_SCREENING, Reason: "koreksi", Results: batch(tt.n)})
			for _, e := range []error{err, cerr} {
				st := status.Convert(e)
				if st.Code() != codes.InvalidArgument || sent || fw.got.UpdateName != "" || !strings.Contains(st.Message(), "KiB") ||
					!strings.Contains(fmt.Sprint(st.Details()), "BATCH_TOO_LARGE") {
					t.Errorf("%v (sent %v), want InvalidArgument BATCH_TOO_LARGE and nothing sent", e, sent)
				}
			}
		})
	}
}
