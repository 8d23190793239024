package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// TestBlockedView: every blocked reason is told in Indonesian by default and in English when
// asked, with what to do, rendered from the catalog (never the bare code); the codes and
// times pass through unchanged.
func TestBlockedView(t *testing.T) {
	cat := testCatalog(t)
	since := time.Date(2026, 12, 14, 1, 0, 0, 0, time.UTC)
	reasons := []workflows.BlockedReason{workflows.BlockedStoreUnavailable, workflows.BlockedStoreRejectedData,
		workflows.BlockedStoreInconsistent, workflows.BlockedCalendarNotCovered, workflows.BlockedStepFailed, workflows.BlockedInvalidInput}
	en := metadata.NewIncomingContext(context.Background(), metadata.Pairs("grpcgateway-accept-language", "en"))
	for _, r := range reasons {
		t.Run(string(r), func(t *testing.T) {
			b := &store.Blocked{Reason: string(r), Step: workflows.StepOpenAnnouncement, Year: 2027, Since: since, Attempts: 4, NextAttempt: since.Add(8 * time.Second)}
			id, inEN := blockedView(context.Background(), cat, b), blockedView(en, cat, b)
			if id.GetReason() != string(r) || id.GetStep() != workflows.StepOpenAnnouncement || id.GetAttempts() != 4 ||
				!id.GetSinceTime().AsTime().Equal(since) || !id.GetNextAttemptTime().AsTime().Equal(since.Add(8*time.Second)) {
				t.Errorf("view %+v", id)
			}
			if id.GetMessage() == "" || id.GetRemedy() == "" || id.GetMessage() == inEN.GetMessage() || id.GetRemedy() == inEN.GetRemedy() {
				t.Errorf("texts: %q / %q, en %q / %q", id.GetMessage(), id.GetRemedy(), inEN.GetMessage(), inEN.GetRemedy())
			}
			for _, s := range []string{id.GetMessage(), id.GetRemedy(), inEN.GetMessage(), inEN.GetRemedy()} {
				if strings.HasPrefix(s, "blocked") {
					t.Errorf("a catalog code is shown instead of its text: %q", s)
				}
			}
			if r == workflows.BlockedCalendarNotCovered && (!strings.Contains(id.GetMessage(), "2027") || !strings.Contains(id.GetRemedy(), "2027")) {
				t.Errorf("the year is missing: %q / %q", id.GetMessage(), id.GetRemedy())
			}
		})
	}
	if blockedView(context.Background(), cat, nil) != nil {
		t.Error("a selection that is not blocked shows a blocked state")
	}
}
