package server

import (
	"context"
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

func TestActorOf(t *testing.T) {
	for role, want := range map[auth.Role]workflows.Role{
		auth.RoleAdmin: workflows.RoleAdmin, auth.RoleCommittee: workflows.RoleCommittee,
		auth.RoleCandidate: workflows.RoleCandidate, auth.RoleAuditor: workflows.RoleAuditor,
	} {
		if got := actorOf(auth.Principal{Subject: "s", Role: role}); got.Role != want || got.Subject != "s" {
			t.Errorf("actorOf(%s) = %+v", role, got)
		}
	}
}
