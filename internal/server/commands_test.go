package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

type fakeHandle struct {
	client.WorkflowUpdateHandle
	result workflows.UpdateResult
	err    error
}

func (h fakeHandle) Get(_ context.Context, ptr any) error {
	if h.err != nil {
		return h.err
	}
	*(ptr.(*workflows.UpdateResult)) = h.result
	return nil
}

type fakeWorkflows struct {
	got       client.UpdateWorkflowOptions
	handle    fakeHandle
	updateErr error
}

func (f *fakeWorkflows) ExecuteWorkflow(context.Context, client.StartWorkflowOptions, any, ...any) (client.WorkflowRun, error) {
	return nil, errors.New("not used")
}

func (f *fakeWorkflows) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	f.got = o
	if f.updateErr != nil {
		return nil, f.updateErr
	}
	return f.handle, nil
}

func TestCommanderSendsRequestIDAsUpdateID(t *testing.T) {
	fw := &fakeWorkflows{handle: fakeHandle{result: workflows.UpdateResult{Seq: 7, Stage: workflows.StageInterview}}}
	c := commander{wf: fw, logger: slog.New(slog.DiscardHandler)}
	args := workflows.CancelArgs{Actor: workflows.Actor{Subject: "a", Role: workflows.RoleAdmin}, Reason: "x"}
	res, err := c.send(context.Background(), "kadis-2026", "req-12345678", workflows.UpdateCancel, args)
	if err != nil {
		t.Fatal(err)
	}
	if res.Seq != 7 || res.Stage != workflows.StageInterview {
		t.Errorf("result = %+v", res)
	}
	o := fw.got
	if o.UpdateID != "req-12345678" || o.WorkflowID != workflows.WorkflowID("kadis-2026") || o.UpdateName != workflows.UpdateCancel ||
		o.WaitForStage != client.WorkflowUpdateStageCompleted || len(o.Args) != 1 || o.Args[0] != any(args) {
		t.Errorf("update options = %+v", o)
	}
}

func TestWorkflowErrorMapping(t *testing.T) {
	rejection := func(kind string) error {
		return temporal.NewApplicationErrorWithOptions("english text", kind, temporal.ApplicationErrorOptions{
			NonRetryable: true,
			Details:      []any{workflows.Message{Code: kind, EN: "stage is closed", ID: "tahap sudah ditutup"}},
		})
	}
	tests := []struct {
		name     string
		err      error
		lang     string
		wantCode codes.Code
		wantMsg  string
		wantInfo string
	}{
		{"wrong stage", rejection(workflows.RejectWrongStage), "", codes.FailedPrecondition, "tahap sudah ditutup", workflows.RejectWrongStage},
		{"wrong stage in English", rejection(workflows.RejectWrongStage), "en", codes.FailedPrecondition, "stage is closed", workflows.RejectWrongStage},
		{"out of window", rejection(workflows.RejectOutOfWindow), "", codes.FailedPrecondition, "tahap sudah ditutup", workflows.RejectOutOfWindow},
		{"wrong actor", rejection(workflows.RejectWrongActor), "", codes.PermissionDenied, "tahap sudah ditutup", workflows.RejectWrongActor},
		{"duplicate", rejection(workflows.RejectDuplicate), "", codes.AlreadyExists, "tahap sudah ditutup", workflows.RejectDuplicate},
		{"not found", rejection(workflows.RejectNotFound), "", codes.NotFound, "tahap sudah ditutup", workflows.RejectNotFound},
		{"invalid argument", rejection(workflows.RejectInvalidArgument), "", codes.InvalidArgument, "tahap sudah ditutup", workflows.RejectInvalidArgument},
		{"store unavailable", rejection(workflows.RejectUnavailable), "", codes.Unavailable, "tahap sudah ditutup", workflows.RejectUnavailable},
		{"store inconsistent", rejection(workflows.RejectInconsistent), "", codes.Internal, "tahap sudah ditutup", workflows.RejectInconsistent},
		{"no such workflow", serviceerror.NewNotFound("workflow not found for ID: x"), "", codes.NotFound, "seleksi tidak ditemukan", ""},
		{"infrastructure failure hides its text", errors.New("sql: connection refused at 10.0.0.3"), "", codes.Internal, "terjadi kesalahan internal", ""},
		{"unknown application error type", temporal.NewApplicationError("boom", "PanicError"), "en", codes.Internal, "internal error", ""},
		{"deadline", context.DeadlineExceeded, "", codes.DeadlineExceeded, "permintaan melewati batas waktu", ""},
		{"update timed out waiting", client.NewWorkflowUpdateServiceTimeoutOrCanceledError(serviceerror.NewDeadlineExceeded("context deadline exceeded")), "en", codes.DeadlineExceeded, "the request timed out", ""},
		{"Temporal's deadline", serviceerror.NewDeadlineExceeded("context deadline exceeded"), "", codes.DeadlineExceeded, "permintaan melewati batas waktu", ""},
		// Temporal unreachable is 503, not 500 (found: "internal error" during an outage).
		{"Temporal unavailable", serviceerror.NewUnavailable("connection refused"), "", codes.Unavailable, "mesin alur kerja (Temporal) sedang tidak dapat dijangkau", "WORKFLOWS_UNAVAILABLE"},
		{"Temporal unreachable at the transport", status.Error(codes.Unavailable, "connection error: desc = \"transport: Error while dialing: dial tcp 10.0.0.7:7233: connect: connection refused\""),
			"en", codes.Unavailable, "the workflow engine (Temporal) cannot be reached", "WORKFLOWS_UNAVAILABLE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.lang != "" {
				ctx = metadata.NewIncomingContext(ctx, metadata.Pairs("grpcgateway-accept-language", tt.lang))
			}
			fw := &fakeWorkflows{handle: fakeHandle{err: tt.err}}
			c := commander{wf: fw, logger: slog.New(slog.DiscardHandler)}
			_, err := c.send(ctx, "s-01", "req-00000001", workflows.UpdateAdvanceStage, nil)
			st := status.Convert(err)
			if st.Code() != tt.wantCode || !strings.HasPrefix(st.Message(), tt.wantMsg) {
				t.Fatalf("status = %s %q, want %s %q", st.Code(), st.Message(), tt.wantCode, tt.wantMsg)
			}
			var info string
			for _, d := range st.Details() {
				if ei, ok := d.(*errdetails.ErrorInfo); ok {
					info = ei.GetReason()
				}
			}
			if info != tt.wantInfo {
				t.Errorf("ErrorInfo reason = %q, want %q", info, tt.wantInfo)
			}
		})
	}
	// The same mapping applies when the update is refused before a handle exists.
	fw := &fakeWorkflows{updateErr: serviceerror.NewNotFound("no workflow")}
	_, err := commander{wf: fw, logger: slog.New(slog.DiscardHandler)}.send(context.Background(), "s", "req-00000001", "x", nil)
	if status.Code(err) != codes.NotFound {
		t.Errorf("UpdateWorkflow error = %v, want NotFound", err)
	}
}

// TestCallerActor: the workflow and the store know the caller by actor ID and role, never by
// the token's subject.
func TestCallerActor(t *testing.T) {
	for role, want := range map[auth.Role]workflows.Role{
		auth.RoleAdmin: workflows.RoleAdmin, auth.RoleCommittee: workflows.RoleCommittee,
		auth.RoleCandidate: workflows.RoleCandidate, auth.RoleAuditor: workflows.RoleAuditor,
	} {
		ctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "s", Role: role})
		if got, err := callerActor(ctx, fakeActors{}); err != nil || got.Role != want || got.Subject != "act-s" {
			t.Errorf("callerActor(%s) = %+v, %v", role, got, err)
		}
	}
	if _, err := callerActor(context.Background(), fakeActors{}); err == nil {
		t.Error("an anonymous caller was given an actor")
	}
}

// fakeLedger is the store's ledger of applied commands, by workflow ID and key.
type fakeLedger struct {
	rows map[string]store.CommandAnswer
	// blind lookups find nothing yet, like a lookup that runs just before a concurrent
	// request with the same ID commits.
	blind int
}

func (l *fakeLedger) CommandAnswer(_ context.Context, workflowID, key string) (store.CommandAnswer, error) {
	a, ok := l.rows[workflowID+"/"+key]
	if l.blind > 0 {
		l.blind--
		ok = false
	}
	if !ok {
		return store.CommandAnswer{}, store.ErrNotFound
	}
	return a, nil
}

// ledgerWorkflows applies an update by writing the ledger as the store does, answers a
// repeated Update ID within a run with the first answer whatever its arguments, as Temporal
// does, and forgets them when the workflow continues as new.
type ledgerWorkflows struct {
	fakeWorkflows
	t       *testing.T
	ledger  *fakeLedger
	run     map[string]workflows.UpdateResult
	applied int64
	// fail is how a request that reaches the workflow fails.
	fail error
}

func (w *ledgerWorkflows) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	if res, ok := w.run[o.UpdateID]; ok {
		return fakeHandle{result: res}, nil
	}
	if w.fail != nil {
		return fakeHandle{err: w.fail}, nil
	}
	w.applied++
	res := workflows.UpdateResult{Seq: 40 + w.applied, Stage: workflows.StageInterview, Phase: workflows.PhaseObjections}
	answer, err := json.Marshal(res)
	if err != nil {
		w.t.Fatal(err)
	}
	digest, err := store.PayloadDigest(o.Args[0])
	if err != nil {
		w.t.Fatal(err)
	}
	w.ledger.rows[o.WorkflowID+"/"+o.UpdateID] = store.CommandAnswer{Kind: o.UpdateName, ArgsSHA256: digest, Answer: answer}
	w.run[o.UpdateID] = res
	return fakeHandle{result: res}, nil
}

func TestSendIsIdempotentAcrossRuns(t *testing.T) {
	first := workflows.AdvanceArgs{Actor: workflows.Actor{Subject: "chair", Role: workflows.RoleCommittee}, Stage: workflows.StageInterview}
	other := first
	other.Reason = "another request"
	keyReused := temporal.NewNonRetryableApplicationError("key reused", "IdempotencyKeyReused", nil)
	tests := []struct {
		name string
		// continued: the workflow continued as new between the first request and the retry.
		continued bool
		retry     workflows.AdvanceArgs
		// blind and fail: the ledger's first lookup misses the first request (concurrent)
		// and the workflow fails the retry so.
		blind    int
		fail     error
		wantCode codes.Code
	}{
		{"retry in the same run", false, first, 0, nil, codes.OK},
		{"retry after continue-as-new", true, first, 0, nil, codes.OK},
		{"other content in the same run", false, other, 0, nil, codes.AlreadyExists},
		{"other content after continue-as-new", true, other, 0, nil, codes.AlreadyExists},
		{"other content concurrently, refused by the store", true, other, 1, keyReused, codes.AlreadyExists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			led := &fakeLedger{rows: map[string]store.CommandAnswer{}}
			fw := &ledgerWorkflows{t: t, ledger: led, run: map[string]workflows.UpdateResult{}}
			c := commander{wf: fw, ledger: led, logger: slog.New(slog.DiscardHandler)}
			ctx := context.Background()
			res1, err := c.send(ctx, "kadis-2026", "req-12345678", workflows.UpdateAdvanceStage, first)
			if err != nil {
				t.Fatal(err)
			}
			if tt.continued {
				fw.run = map[string]workflows.UpdateResult{}
			}
			led.blind, fw.fail = tt.blind, tt.fail
			res2, err := c.send(ctx, "kadis-2026", "req-12345678", workflows.UpdateAdvanceStage, tt.retry)
			if status.Code(err) != tt.wantCode {
				t.Fatalf("retry: %v, want %s", err, tt.wantCode)
			}
			if tt.wantCode == codes.OK && res2 != res1 {
				t.Errorf("retry answered %+v, the first answer was %+v", res2, res1)
			}
			if st := status.Convert(err); tt.wantCode == codes.AlreadyExists && !strings.HasPrefix(st.Message(), "ID permintaan ini sudah dipakai") {
				t.Errorf("message %q does not explain the reused request ID", st.Message())
			}
			if fw.applied != 1 {
				t.Errorf("the command was applied %d times, want once", fw.applied)
			}
		})
	}
}

// laggingWorkflows refuses the first refusals updates for the stage, as a workflow that has
// not yet taken in the stage change the store already shows.
type laggingWorkflows struct {
	fakeWorkflows
	refusals int
	calls    []string
}

func (f *laggingWorkflows) UpdateWorkflow(ctx context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	f.calls = append(f.calls, o.UpdateID)
	if len(f.calls) <= f.refusals {
		m := workflows.Message{Code: workflows.CodeRejectOnlyDuring,
			Params: workflows.Params{{Name: "stage", Value: string(workflows.StageAnnouncement)}, {Name: "want", Value: string(workflows.StageAdministrativeScreening)}}}
		return fakeHandle{err: temporal.NewApplicationErrorWithOptions("wrong stage", workflows.RejectWrongStage,
			temporal.ApplicationErrorOptions{NonRetryable: true, Details: []any{m}})}, nil
	}
	return f.fakeWorkflows.UpdateWorkflow(ctx, o)
}

type storeStage string

func (s storeStage) GetSelection(_ context.Context, id string) (store.Selection, error) {
	return store.Selection{ID: id, Stage: string(s)}, nil
}

// TestCommandWaitsForALaggingWorkflow: a stage changes in the store before the workflow takes
// the change in. A command sent in between by someone who saw the new stage is sent again
// (same Update ID) until the workflow has caught up; a command for a stage the store does not
// show either is refused at once.
func TestCommandWaitsForALaggingWorkflow(t *testing.T) {
	tests := []struct {
		name      string
		refusals  int
		store     string
		wantCode  codes.Code
		wantCalls int
	}{
		{"workflow catches up", 3, string(workflows.StageAdministrativeScreening), codes.OK, 4},
		{"store shows the old stage too", 3, string(workflows.StageAnnouncement), codes.FailedPrecondition, 1},
		{"workflow never catches up", 100, string(workflows.StageAdministrativeScreening), codes.FailedPrecondition, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fw := &laggingWorkflows{fakeWorkflows: fakeWorkflows{handle: fakeHandle{result: workflows.UpdateResult{Seq: 3}}}, refusals: tt.refusals}
			c := commander{wf: fw, stages: storeStage(tt.store), logger: slog.New(slog.DiscardHandler)}
			_, err := c.send(context.Background(), "s-01", "req-00000001", workflows.UpdateRecordResults, nil)
			if status.Code(err) != tt.wantCode || len(fw.calls) != tt.wantCalls {
				t.Fatalf("err %v after %d calls, want %s after %d", err, len(fw.calls), tt.wantCode, tt.wantCalls)
			}
			for _, id := range fw.calls {
				if id != "req-00000001" {
					t.Errorf("sent again as %q, want the same Update ID", id)
				}
			}
		})
	}
}
