package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/bkpsdm/seleksi/internal/health"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// Workflows is the part of the Temporal client the handlers use.
type Workflows interface {
	ExecuteWorkflow(ctx context.Context, options client.StartWorkflowOptions, workflow any, args ...any) (client.WorkflowRun, error)
	UpdateWorkflow(ctx context.Context, options client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error)
}

// Ledger is the store's record of the commands applied to each workflow, by idempotency key.
type Ledger interface {
	CommandAnswer(ctx context.Context, workflowID, key string) (store.CommandAnswer, error)
}

// Stages reads the stage the store shows for a selection.
type Stages interface {
	GetSelection(ctx context.Context, id string) (store.Selection, error)
}

// commander sends committee and secretariat commands to selection workflows.
type commander struct {
	wf     Workflows
	ledger Ledger
	// stages lets a command refused for its stage wait for a workflow that is behind the
	// store (nil: no wait).
	stages Stages
	// cat renders message codes for people (nil shows only the texts of old records).
	cat    *i18n.Catalog
	logger *slog.Logger
}

var msgRequestIDReused = i18n.Text{
	ID: "ID permintaan ini sudah dipakai untuk permintaan lain yang isinya berbeda; kirim permintaan ini dengan ID permintaan yang baru",
	EN: "this request ID was already used for a different request; send this request with a new request ID",
}

// reasonRequestIDReused is the ErrorInfo reason of msgRequestIDReused.
const reasonRequestIDReused = "REQUEST_ID_REUSED"

// send runs one Workflow Update and waits for its result. The request ID becomes the Update
// ID and the key of the store's ledger: a client that retries after a lost answer gets the
// first answer back instead of a second application of the command, and a request ID reused
// for different arguments is refused. Temporal applies an Update ID once per workflow run
// only, and answers a repeated ID with the first answer whatever its arguments; the ledger
// holds every run's commands with the digest of their arguments, so it is asked first (a
// retry after continue-as-new) and after (a different request under the ID of one the
// current run already applied). The update is accepted or rejected by the workflow's
// validator before it enters history, and answers only after the store has the change.
func (c commander) send(ctx context.Context, selectionID, requestID, update string, args any) (workflows.UpdateResult, error) {
	wfID := workflows.WorkflowID(selectionID)
	digest, err := store.PayloadDigest(args)
	if err != nil {
		c.logger.ErrorContext(ctx, "digest command arguments", "op", update, "error", err)
		return workflows.UpdateResult{}, localizedError(ctx, codes.Internal, msgInternal)
	}
	if res, done, err := c.answered(ctx, wfID, requestID, digest); done || err != nil {
		return res, err
	}
	var res workflows.UpdateResult
	for wait := lagFirstWait; ; wait *= 2 {
		err := c.update(ctx, wfID, requestID, update, args, &res)
		if err == nil {
			break
		}
		if wait > lagLastWait || !c.workflowBehind(ctx, selectionID, err) {
			return workflows.UpdateResult{}, c.failed(ctx, update, wfID, requestID, digest, err)
		}
		select {
		case <-ctx.Done():
			return workflows.UpdateResult{}, c.failed(ctx, update, wfID, requestID, digest, err)
		case <-time.After(wait):
		}
	}
	if _, _, err := c.answered(ctx, wfID, requestID, digest); err != nil {
		return workflows.UpdateResult{}, err
	}
	return res, nil
}

// The waits for a workflow that is behind the store: doubling from lagFirstWait while at
// most lagLastWait, about 5 s in all.
const (
	lagFirstWait = 20 * time.Millisecond
	lagLastWait  = 2560 * time.Millisecond
)

func (c commander) update(ctx context.Context, wfID, requestID, update string, args any, res *workflows.UpdateResult) error {
	h, err := c.wf.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   wfID,
		UpdateID:     requestID,
		UpdateName:   update,
		Args:         []any{args},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return err
	}
	return h.Get(ctx, res)
}

// workflowBehind reports whether err is the workflow refusing a command for its stage while
// the store already shows the stage the command needs. A stage changes in the store first
// (the activity that writes it) and in the workflow's state when the workflow takes the
// activity's result in, a moment later; a command sent in between, by someone who saw the
// new stage, is sent again instead of being refused. A validator's refusal left no trace in
// the history (validators run before an Update is accepted), so the same Update ID is
// validated afresh; a refusal by the handler's own re-check under the selection's mutex is
// recorded with the accepted Update, and sending its ID again returns that same refusal, at
// worst after the waits below, never a second application.
func (c commander) workflowBehind(ctx context.Context, selectionID string, err error) bool {
	var appErr *temporal.ApplicationError
	if c.stages == nil || !errors.As(err, &appErr) || appErr.Type() != workflows.RejectWrongStage {
		return false
	}
	m, ok := workflows.MessageOf(err)
	want := m.Params.Get("want")
	if !ok || want == "" || m.Params.Get("stage") == want {
		return false
	}
	sel, serr := c.stages.GetSelection(ctx, selectionID)
	return serr == nil && sel.Stage == want
}

// answered looks requestID up in the ledger. done reports that the ledger decided: the first
// answer of the same request (err nil), or AlreadyExists for a request ID that was applied
// with other arguments. Ledger rows written before the ledger kept argument digests decide
// nothing; the workflow then answers as it always did.
func (c commander) answered(ctx context.Context, wfID, requestID, digest string) (res workflows.UpdateResult, done bool, err error) {
	if c.ledger == nil {
		return res, false, nil
	}
	prior, err := c.ledger.CommandAnswer(ctx, wfID, requestID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return res, false, nil
	case err != nil:
		return res, true, storeError(ctx, c.logger, err)
	case prior.ArgsSHA256 == "":
		return res, false, nil
	case prior.ArgsSHA256 != digest:
		return res, true, localizedError(ctx, codes.AlreadyExists, msgRequestIDReused,
			&errdetails.ErrorInfo{Reason: reasonRequestIDReused, Domain: "seleksi"})
	}
	if err := json.Unmarshal(prior.Answer, &res); err != nil {
		c.logger.ErrorContext(ctx, "decode recorded answer", "workflow", wfID, "key", requestID, "error", err)
		return res, true, localizedError(ctx, codes.Internal, msgInternal)
	}
	return res, true, nil
}

// failed explains a failed update. The store refuses to apply a key twice with different
// content; if that is why it failed, the caller reused the request ID and is told so.
func (c commander) failed(ctx context.Context, op, wfID, requestID, digest string, err error) error {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		if _, ok := rejectionCode(appErr.Type()); ok {
			return c.workflowError(ctx, op, err)
		}
	}
	if _, _, lerr := c.answered(ctx, wfID, requestID, digest); status.Code(lerr) == codes.AlreadyExists {
		return lerr
	}
	return c.workflowError(ctx, op, err)
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
			text := i18n.Text{}
			if m.Code != "" {
				text = c.cat.Text(catalogMsg(m))
			}
			if text.ID == "" && text.EN == "" || text.ID == m.Code {
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
	// Temporal's client reports a deadline as its own error types (an update that timed out
	// waiting, the service's DeadlineExceeded), which neither errors.Is nor status.Code
	// recognise; found: an update whose deadline passed answered 500 "internal error".
	var updateTimeout *client.WorkflowUpdateServiceTimeoutOrCanceledError
	var serviceTimeout *serviceerror.DeadlineExceeded
	if errors.Is(err, context.DeadlineExceeded) || status.Code(err) == codes.DeadlineExceeded ||
		errors.As(err, &updateTimeout) || errors.As(err, &serviceTimeout) {
		return localizedError(ctx, codes.DeadlineExceeded, msgTimeout)
	}
	if errors.Is(err, context.Canceled) {
		return status.FromContextError(err).Err()
	}
	var down *serviceerror.Unavailable
	if errors.As(err, &down) || status.Code(err) == codes.Unavailable {
		c.logger.WarnContext(ctx, "Temporal unavailable", "op", op, "error", err)
		return unavailable(ctx, health.Temporal)
	}
	c.logger.ErrorContext(ctx, "workflow command failed", "op", op, "error", err)
	return localizedError(ctx, codes.Internal, msgInternal)
}
