package server

import (
	"context"
	"strconv"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// A blocked selection carries codes and parameters (workflows.Blocked, projected by the
// store); people read what they mean and what to do here, in their language.

// blockedMessages are the catalog messages of a blocked reason code: what happened, and what
// to do. A reason this code does not know reads as a failed step.
func blockedMessages(b *store.Blocked) (message, remedy i18n.Msg) {
	reason := workflows.BlockedReason(b.Reason)
	switch reason {
	case workflows.BlockedStoreUnavailable, workflows.BlockedStoreRejectedData, workflows.BlockedStoreInconsistent,
		workflows.BlockedCalendarNotCovered, workflows.BlockedInvalidInput:
	default:
		reason = workflows.BlockedStepFailed
	}
	var params map[string]string
	if reason == workflows.BlockedCalendarNotCovered {
		params = map[string]string{"year": strconv.Itoa(b.Year)}
	}
	return i18n.Msg{Code: "blocked." + string(reason), Params: params}, i18n.Msg{Code: "blocked_remedy." + string(reason), Params: params}
}

// blockedView renders a selection's blocked state in the caller's language from the catalog;
// nil when it is not blocked.
func blockedView(ctx context.Context, cat *i18n.Catalog, b *store.Blocked) *seleksiv1.SelectionBlocked {
	if b == nil {
		return nil
	}
	lang := language(ctx)
	message, remedy := blockedMessages(b)
	return &seleksiv1.SelectionBlocked{
		Reason: b.Reason, Message: cat.Render(message, lang), Remedy: cat.Render(remedy, lang), Step: b.Step, Year: uint32(max(b.Year, 0)),
		SinceTime: ts(b.Since), Attempts: uint32(max(b.Attempts, 0)), NextAttemptTime: ts(b.NextAttempt),
	}
}

// ResumeSelection asks a blocked selection to retry its step now.
func (s *SelectionServer) ResumeSelection(ctx context.Context, req *seleksiv1.ResumeSelectionRequest) (*seleksiv1.ResumeSelectionResponse, error) {
	me, err := s.me(ctx, segment(req.GetName(), 0))
	if err != nil {
		return nil, err
	}
	id := segment(req.GetName(), 0)
	if _, err := s.cmd.send(ctx, id, req.GetRequestId(), workflows.UpdateResume, workflows.ResumeArgs{
		Actor: me, Reason: req.GetReason()}); err != nil {
		return nil, err
	}
	sel, err := s.view(ctx, id)
	if err != nil {
		return nil, err
	}
	return &seleksiv1.ResumeSelectionResponse{Selection: sel}, nil
}
