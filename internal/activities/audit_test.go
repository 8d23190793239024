package activities

import (
	"context"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/audit"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// TestChainMatchesAuditPackage checks that a chain written through the activities and read
// back from the database verifies with the audit package: the field mapping between the two
// event types, and instants that survive the database round trip, both feed the hash.
func TestChainMatchesAuditPackage(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	chair := workflows.Actor{Subject: "chair", Role: workflows.RoleCommittee}
	f.run(t, f.acts.ApplyCommand, workflows.CommandRecord{WorkflowID: wfID, SelectionID: selID, Key: "advance-req-1", Seq: 1,
		Kind: workflows.CmdAdvance, Actor: chair, Reason: "selesai <tahap> & diumumkan", At: t0.Add(300*time.Hour + 123456789),
		Stage: workflows.StageAdministrativeScreening, Phase: workflows.PhaseObjections,
		Args: workflows.CommandArgs{Advance: &workflows.AdvanceArgs{Actor: chair, Stage: workflows.StageAdministrativeScreening, Reason: "selesai <tahap> & diumumkan"}}})
	f.run(t, f.acts.ApplyCommand, workflows.CommandRecord{WorkflowID: wfID, SelectionID: selID, Key: "event-2", Seq: 2,
		Kind: workflows.EvtStageOpened, Actor: workflows.Actor{Subject: workflows.SystemSubject, Role: workflows.RoleSystem},
		At: t0.Add(400 * time.Hour), Stage: workflows.StageCompetencyTest, Phase: workflows.PhaseOpen})

	page, err := f.st.ListAuditEvents(ctx, selID, store.ListOptions{PageSize: store.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 6 { // creation, three submissions, two records
		t.Fatalf("%d events, want 6", len(page.Items))
	}
	events := make([]audit.AuditEvent, len(page.Items))
	for i, e := range page.Items {
		events[i] = audit.AuditEvent{SelectionID: e.SelectionID, Seq: e.Seq, WorkflowID: e.WorkflowID, UpdateID: e.UpdateID,
			CommandSeq: e.CommandSeq, ActorSubject: e.ActorSubject, Role: e.Role, Action: e.Action, Target: e.Target,
			Reason: e.Reason, WorkflowTime: e.WorkflowTime, Payload: e.Payload, PayloadSHA256: e.PayloadSHA256,
			PrevHash: e.PrevHash, Hash: e.Hash, RecordedAt: e.RecordTime}
		if got := audit.ChainHash(e.PrevHash, events[i]); got != e.Hash {
			t.Fatalf("event %d: audit.ChainHash = %s, the store wrote %s", e.Seq, got, e.Hash)
		}
	}
	sel, err := f.st.GetSelection(ctx, selID)
	if err != nil {
		t.Fatal(err)
	}
	if fs := audit.CheckChain(events, &audit.ChainHead{Seq: sel.AuditSeq, Hash: sel.AuditHead}); len(fs) > 0 {
		t.Fatalf("audit.CheckChain found %v", fs)
	}
	// And the other way round: a chain the audit package links verifies in the store's terms.
	first := audit.Link(nil, audit.AuditEvent{SelectionID: "s", Seq: 1, ActorSubject: "a", Role: "ROLE_ADMIN", Action: "X",
		Target: "selections/s", WorkflowTime: t0, PayloadSHA256: "00"})
	if store.ChainHash(store.AuditEvent{SelectionID: "s", Seq: 1, ActorSubject: "a", Role: "ROLE_ADMIN", Action: "X",
		Target: "selections/s", WorkflowTime: t0, PayloadSHA256: "00"}) != first.Hash {
		t.Fatal("store.ChainHash differs from audit.Link")
	}
}
