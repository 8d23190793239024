package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// fakeActors is an actor directory whose IDs show whom they stand for, "act-" and the
// subject, so that tests can tell an actor ID from a subject at a glance.
type fakeActors struct{}

func (fakeActors) ActorID(_ context.Context, _, subject string) (string, error) {
	return "act-" + subject, nil
}

func (fakeActors) ActorSubjects(_ context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	for _, id := range ids {
		if sub, ok := strings.CutPrefix(id, "act-"); ok {
			out[id] = sub
		}
	}
	return out, nil
}

// TestPeopleAreRecordedByActorID follows a selection's creation and a committee command
// through the handlers on a real store: the workflow's input names the committee by actor ID
// and no name, the command carries the member's actor ID, the store's audit event records the
// secretariat's actor ID, and nothing sent to Temporal holds a member's subject or name. The
// definition the API serves back still names each member by ID and name.
func TestPeopleAreRecordedByActorID(t *testing.T) {
	ctx := context.Background()
	wf := &startRecorder{}
	srv, st := newCreateServer(t, wf)
	sel := validSelection()
	for _, m := range sel.GetCommittee() {
		// Members known by their NIP, as an agency's identity provider may name them.
		m.MemberId, m.DisplayName = "19700101199001100"+strings.TrimPrefix(m.GetMemberId(), "m"), "Dr. Nama Rahasia "+m.GetMemberId()
	}
	admin := auth.WithPrincipal(ctx, auth.Principal{Issuer: auth.LocalIssuer, Subject: "197501012000031001", Role: auth.RoleAdmin})
	resp, err := srv.CreateSelection(admin, &seleksiv1.CreateSelectionRequest{
		RequestId: "req-create-01", SelectionId: "kadis-pupr-2026", Selection: sel})
	if err != nil {
		t.Fatal(err)
	}
	if len(wf.starts) != 1 {
		t.Fatalf("%d starts", len(wf.starts))
	}
	in := wf.starts[0].in
	sent, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range sel.GetCommittee() {
		want, err := st.ActorID(ctx, auth.LocalIssuer, m.GetMemberId())
		if err != nil {
			t.Fatal(err)
		}
		if got := in.Committee[i]; got.Subject != want || got.Name != "" {
			t.Errorf("member %d reaches the workflow as %+v, want actor %s and no name", i+1, got, want)
		}
		for _, personal := range []string{m.GetMemberId(), m.GetDisplayName()} {
			if strings.Contains(string(sent), personal) {
				t.Errorf("the workflow input holds %q", personal)
			}
		}
	}
	shown := resp.GetSelection().GetCommittee()
	if len(shown) != 5 || shown[0].GetMemberId() != sel.GetCommittee()[0].GetMemberId() || shown[0].GetDisplayName() != sel.GetCommittee()[0].GetDisplayName() {
		t.Errorf("the definition served back lost the members' IDs or names: %v", shown)
	}
	adminActor, _ := st.ActorID(ctx, auth.LocalIssuer, "197501012000031001")
	events, err := st.ListAuditEvents(ctx, "kadis-pupr-2026", store.ListOptions{})
	if err != nil || len(events.Items) == 0 {
		t.Fatalf("audit events: %v, %v", events.Items, err)
	}
	if got := events.Items[0].ActorSubject; got != adminActor || !strings.HasPrefix(got, "act-") {
		t.Errorf("the creation is recorded as done by %q, want the secretariat's actor ID %q", got, adminActor)
	}

	// A committee command carries the member's actor ID.
	fw := &fakeWorkflows{handle: fakeHandle{result: workflows.UpdateResult{Seq: 2}}}
	cmds := NewSelectionServer(st, fw, testCatalog(t), slog.New(slog.DiscardHandler), SelectionOptions{})
	chair := sel.GetCommittee()[0].GetMemberId()
	member := auth.WithPrincipal(ctx, auth.Principal{Issuer: auth.LocalIssuer, Subject: chair, Role: auth.RoleCommittee,
		Selections: []string{"kadis-pupr-2026"}})
	if _, err := cmds.AdvanceSelection(member, &seleksiv1.AdvanceSelectionRequest{Name: "selections/kadis-pupr-2026",
		RequestId: "req-advance-01", ExpectedStage: seleksiv1.Stage_STAGE_ANNOUNCEMENT}); err != nil {
		t.Fatal(err)
	}
	args, ok := fw.got.Args[0].(workflows.AdvanceArgs)
	if !ok || args.Actor.Subject != in.Committee[0].Subject || args.Actor.Role != workflows.RoleCommittee {
		t.Errorf("the command carries actor %+v, want the chair's actor ID %s", args.Actor, in.Committee[0].Subject)
	}

	// A selection created before actor IDs has a workflow that knows its committee by
	// subject: its commands go on carrying the subject, or the chair would be a stranger.
	if _, err := st.CreateSelection(ctx, store.NewSelection{ID: "lama-2025", RequestID: "req-create-lama", WorkflowID: workflows.WorkflowID("lama-2025"),
		PositionTitle: "Kepala Dinas", Agency: "Pemkab Contoh", TimeZone: "TIME_ZONE_WIB", Config: []byte(`{}`),
		Actor: store.Actor{Subject: "197501012000031001", Role: "ROLE_ADMIN"}, Now: createNow}); err != nil {
		t.Fatal(err)
	}
	cmds = NewSelectionServer(legacyStore{Store: st, legacy: "lama-2025"}, fw, testCatalog(t), slog.New(slog.DiscardHandler), SelectionOptions{})
	if _, err := cmds.AdvanceSelection(member, &seleksiv1.AdvanceSelectionRequest{Name: "selections/lama-2025",
		RequestId: "req-advance-02", ExpectedStage: seleksiv1.Stage_STAGE_ANNOUNCEMENT}); err != nil {
		t.Fatal(err)
	}
	if args := fw.got.Args[0].(workflows.AdvanceArgs); args.Actor.Subject != chair {
		t.Errorf("a command on a selection from before actor IDs carries %q, want the subject %q", args.Actor.Subject, chair)
	}
}

// legacyStore is a store in which one selection was created before actor IDs, as
// migration 00014 leaves such selections (the store's own tests check the column).
type legacyStore struct {
	*store.Store
	legacy string
}

func (l legacyStore) RecordsActorIDs(ctx context.Context, id string) (bool, error) {
	if id == l.legacy {
		return false, nil
	}
	return l.Store.RecordsActorIDs(ctx, id)
}
