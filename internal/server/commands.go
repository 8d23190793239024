package server

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/workflows"
)

// Workflows is the part of the Temporal client the handlers use.
type Workflows interface {
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
	UpdateWorkflow(ctx context.Context, options client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error)
}

// actorOf is the workflow's view of the caller: the token's subject and role.
func actorOf(p auth.Principal) workflows.Actor {
	return workflows.Actor{Subject: p.Subject, Role: workflows.Role("ROLE_" + strings.ToUpper(string(p.Role)))}
}

// commander sends committee and secretariat commands to selection workflows.
type commander struct {
	wf     Workflows
	logger *slog.Logger
}

// send runs one Workflow Update and waits for its result. The request ID becomes the Update
// ID: Temporal applies an update ID once per workflow run, so a client that retries after a
// lost answer gets the first answer back instead of a second application of the command.
// The update is accepted or rejected by the workflow's validator before it enters history,
// and answers only after the store has the change.
func (c commander) send(ctx context.Context, selectionID, requestID, update string, args any) (workflows.UpdateResult, error) {
	h, err := c.wf.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   workflows.WorkflowID(selectionID),
		UpdateID:     requestID,
		UpdateName:   update,
		Args:         []any{args},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return workflows.UpdateResult{}, c.workflowError(ctx, update, err)
	}
	var res workflows.UpdateResult
	if err := h.Get(ctx, &res); err != nil {
		return workflows.UpdateResult{}, c.workflowError(ctx, update, err)
	}
	return res, nil
}

// rejectionCode maps the workflow's rejection types to gRPC codes.
func rejectionCode(kind string) (codes.Code, bool) {
	switch kind {
	case workflows.RejectInvalidArgument, workflows.InvalidInputType:
		return codes.InvalidArgument, true
	case workflows.RejectWrongStage, workflows.RejectOutOfWindow, workflows.RejectIncomplete, workflows.RejectCalendar:
		return codes.FailedPrecondition, true
	case workflows.RejectWrongActor:
		return codes.PermissionDenied, true
	case workflows.RejectDuplicate:
		return codes.AlreadyExists, true
	case workflows.RejectNotFound:
		return codes.NotFound, true
	case workflows.RejectUnavailable:
		return codes.Unavailable, true
	case workflows.RejectInconsistent:
		return codes.Internal, true
	}
	return codes.OK, false
}

// workflowError turns what Temporal or the workflow said into a status for people: a
// rejection keeps the workflow's own bilingual explanation and its code (as ErrorInfo), an
// unknown selection is NotFound, and anything else is logged and reported without its text.
func (c commander) workflowError(ctx context.Context, op string, err error) error {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		if code, ok := rejectionCode(appErr.Type()); ok {
			m, _ := workflows.MessageOf(err)
			text := i18n.Text{ID: m.ID, EN: m.EN}
			if text.ID == "" && text.EN == "" {
				text = msgInvalid
			}
			info := &errdetails.ErrorInfo{Reason: appErr.Type(), Domain: "seleksi"}
			if code == codes.InvalidArgument {
				// Invalid arguments carry field violations, like every other InvalidArgument of
				// the API; without them the gateway takes the answer for a malformed body.
				return localizedError(ctx, code, text, info, &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{
					Field: "request", Description: text.In(language(ctx)), Reason: appErr.Type()}}})
			}
			return localizedError(ctx, code, text, info)
		}
	}
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return localizedError(ctx, codes.NotFound, msgSelectionNotFound)
	}
	if errors.Is(err, context.DeadlineExceeded) || status.Code(err) == codes.DeadlineExceeded {
		return localizedError(ctx, codes.DeadlineExceeded, msgTimeout)
	}
	if errors.Is(err, context.Canceled) {
		return status.FromContextError(err).Err()
	}
	c.logger.ErrorContext(ctx, "workflow command failed", "op", op, "error", err)
	return localizedError(ctx, codes.Internal, msgInternal)
}
