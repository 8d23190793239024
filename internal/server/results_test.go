package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// resultFixture is a store with one selection, three applications by candidates whose names
// sort in another order than their IDs, and their published screening and competency
// results.
func resultFixture(t *testing.T) (*store.Store, []string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "seleksi.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 7, 6, 1, 0, 0, 0, time.UTC)
	const sel = "kadis-2026"
	wf := workflows.WorkflowID(sel)
	if _, err := st.CreateSelection(ctx, store.NewSelection{ID: sel, RequestID: "create-1", WorkflowID: wf, PositionTitle: "Kepala Dinas",
		Agency: "Pemkab Contoh", TimeZone: "TIME_ZONE_WIB", Config: []byte(`{}`), Actor: store.Actor{Subject: "admin", Role: "ROLE_ADMIN"}, Now: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ProjectWindow(ctx, store.WindowInput{WorkflowID: wf, SelectionID: sel, Key: "window-0",
		Window: store.Window{Opens: t0, Closes: t0.Add(48 * time.Hour), ClosesWall: t0.Add(48 * time.Hour)}}, t0); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i, name := range []string{"Citra Lestari", "Ani Wijaya", "Budi Santoso"} {
		a, err := st.SubmitApplication(ctx, store.SubmitInput{SelectionID: sel, RequestID: "submit-" + name,
			Owner: "cand-" + name, Candidate: store.Candidate{Subject: "cand-" + name, FullName: name, NIP: "19750505200001100" + string(rune('1'+i)),
				Email: "c@example.id", BirthDate: "1975-05-05"}, Now: t0.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	var entries []store.ResultEntry
	for _, id := range ids {
		entries = append(entries, store.ResultEntry{ApplicationID: id, Outcome: "OUTCOME_PASS"})
	}
	at := t0.Add(72 * time.Hour)
	chair := store.Actor{Subject: "chair", Role: "ROLE_COMMITTEE"}
	for i, c := range []store.Command{
		{Kind: workflows.CmdAdvance, Stage: "STAGE_ADMINISTRATIVE_SCREENING",
			Result: &store.StageResult{Stage: "STAGE_ADMINISTRATIVE_SCREENING", Revision: 1, PublishedAt: at, Entries: entries}},
		{Kind: workflows.CmdAdvance, Stage: "STAGE_COMPETENCY_TEST",
			Result: &store.StageResult{Stage: "STAGE_COMPETENCY_TEST", Revision: 1, PublishedAt: at.Add(time.Hour), Entries: []store.ResultEntry{
				{ApplicationID: ids[1], Outcome: "OUTCOME_PASS", CompetencyCategory: "COMPETENCY_CATEGORY_STILL_MEETS"}}}},
		{Kind: workflows.CmdDecide, Stage: "STAGE_COMMITTEE_DECISION",
			Result: &store.StageResult{Stage: "STAGE_COMMITTEE_DECISION", Revision: 1, PublishedAt: at.Add(2 * time.Hour), Entries: []store.ResultEntry{
				{ApplicationID: ids[0], Outcome: "OUTCOME_PASS"}, {ApplicationID: ids[1], Outcome: "OUTCOME_PASS", Rank: 2},
				{ApplicationID: ids[2], Outcome: "OUTCOME_PASS", Rank: 1}}}},
	} {
		c.WorkflowID, c.SelectionID, c.Key, c.Seq, c.Actor, c.At, c.Phase = wf, sel, "req-"+string(rune('a'+i))+"0000000", int64(i+1), chair, at.Add(time.Duration(i)*time.Hour), "OBJECTIONS"
		if _, err := st.ApplyCommand(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	return st, ids
}

func entryNames(r *seleksiv1.StageResult) []string {
	var out []string
	for _, e := range r.GetEntries() {
		out = append(out, e.GetCandidateName())
	}
	return out
}

// TestPublishedResultsOrderAndNames: a published result lists the shortlist by rank, everyone
// else by candidate name, and the answer of the command that published it is the result
// everyone reads, names included.
func TestPublishedResultsOrderAndNames(t *testing.T) {
	st, _ := resultFixture(t)
	logger := slog.New(slog.DiscardHandler)
	fw := &fakeWorkflows{handle: fakeHandle{result: workflows.UpdateResult{Seq: 9}}}
	srv := NewSelectionServer(st, fw, testCatalog(t), logger, SelectionOptions{})
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "chair", Role: auth.RoleCommittee, Selections: []string{"kadis-2026"}})
	tests := []struct {
		slug string
		want []string
		// write is the command whose answer carries the same result.
		write func() (*seleksiv1.StageResult, error)
	}{
		{"administrative-screening", []string{"Ani Wijaya", "Budi Santoso", "Citra Lestari"}, func() (*seleksiv1.StageResult, error) {
			out, err := srv.AdvanceSelection(ctx, &seleksiv1.AdvanceSelectionRequest{Name: "selections/kadis-2026", RequestId: "req-advance-01",
				ExpectedStage: seleksiv1.Stage_STAGE_ADMINISTRATIVE_SCREENING})
			return out.GetPublishedResult(), err
		}},
		{"committee-decision", []string{"Budi Santoso", "Ani Wijaya", "Citra Lestari"}, func() (*seleksiv1.StageResult, error) {
			out, err := srv.DecideSelection(ctx, &seleksiv1.DecideSelectionRequest{Name: "selections/kadis-2026", RequestId: "req-decide-001",
				Ranked: []*seleksiv1.RankedCandidate{{Rank: 1, Reason: "nilai tertinggi"}}})
			return out.GetPublishedResult(), err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.slug, func(t *testing.T) {
			got, err := srv.GetStageResult(ctx, &seleksiv1.GetStageResultRequest{Name: "selections/kadis-2026/results/" + tt.slug})
			if err != nil {
				t.Fatal(err)
			}
			if names := entryNames(got.GetResult()); !slices.Equal(names, tt.want) {
				t.Errorf("GET lists %v, want %v", names, tt.want)
			}
			written, err := tt.write()
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(written, got.GetResult()) {
				t.Errorf("the command answered\n%v\nGET answers\n%v", written, got.GetResult())
			}
		})
	}
}

// TestApplicationShowsCompetencyCategory: the category recorded with the competency result
// is returned with the application's results.
func TestApplicationShowsCompetencyCategory(t *testing.T) {
	st, ids := resultFixture(t)
	srv := NewApplicationServer(st, &fakeWorkflows{}, testCatalog(t), slog.New(slog.DiscardHandler), nil)
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "admin", Role: auth.RoleAdmin})
	out, err := srv.GetApplication(ctx, &seleksiv1.GetApplicationRequest{Name: "selections/kadis-2026/applications/" + ids[1]})
	if err != nil {
		t.Fatal(err)
	}
	var got seleksiv1.CompetencyCategory
	for _, r := range out.GetApplication().GetStageResults() {
		if r.GetStage() == seleksiv1.Stage_STAGE_COMPETENCY_TEST {
			got = r.GetCompetencyCategory()
		}
	}
	if got != seleksiv1.CompetencyCategory_COMPETENCY_CATEGORY_STILL_MEETS {
		t.Errorf("competency category = %s, want STILL_MEETS", got)
	}
}

// TestDeclareConflictKeepsRelationship: the relationship travels as its own field, not
// folded into the reason.
func TestDeclareConflictKeepsRelationship(t *testing.T) {
	st, ids := resultFixture(t)
	fw := &fakeWorkflows{handle: fakeHandle{result: workflows.UpdateResult{Seq: 9}}}
	srv := NewSelectionServer(st, fw, testCatalog(t), slog.New(slog.DiscardHandler), SelectionOptions{})
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "m1", Role: auth.RoleCommittee, Selections: []string{"kadis-2026"}})
	out, err := srv.DeclareConflict(ctx, &seleksiv1.DeclareConflictRequest{Name: "selections/kadis-2026", RequestId: "req-conflict-1",
		MemberId: "m1", Application: "selections/kadis-2026/applications/" + ids[0], Relationship: "saudara kandung", Reason: "adik ipar"})
	if err != nil {
		t.Fatal(err)
	}
	args, ok := fw.got.Args[0].(workflows.DeclareConflictArgs)
	if !ok || args.Relationship != "saudara kandung" || args.Reason != "adik ipar" {
		t.Errorf("sent %+v", fw.got.Args[0])
	}
	if c := out.GetConflict(); c.GetRelationship() != "saudara kandung" || c.GetReason() != "adik ipar" {
		t.Errorf("answered %v", c)
	}
}

// TestAppointSendsTheDecree: the API's ppk_decree_ref reaches the workflow as the decree
// reference, the one meaning the appointment has end to end.
func TestAppointSendsTheDecree(t *testing.T) {
	st, ids := resultFixture(t)
	fw := &fakeWorkflows{handle: fakeHandle{result: workflows.UpdateResult{Seq: 9}}}
	srv := NewSelectionServer(st, fw, testCatalog(t), slog.New(slog.DiscardHandler), SelectionOptions{})
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "admin", Role: auth.RoleAdmin})
	if _, err := srv.AppointCandidate(ctx, &seleksiv1.AppointCandidateRequest{Name: "selections/kadis-2026", RequestId: "req-appoint-1",
		Application: "selections/kadis-2026/applications/" + ids[2], PpkDecreeRef: "800/123/2026", OversightRecommendationRef: "R-1/BKN/2026",
		Justification: "rekam jejak di program kesehatan daerah"}); err != nil {
		t.Fatal(err)
	}
	// The justification is also the reason of a run started before it, which still asks for
	// a reason when rank 2 or 3 is chosen.
	if args, ok := fw.got.Args[0].(workflows.AppointArgs); !ok || args.PPKDecreeRef != "800/123/2026" ||
		args.Justification != "rekam jejak di program kesehatan daerah" || args.Reason != args.Justification {
		t.Errorf("sent %+v", fw.got.Args[0])
	}
}

// TestSelectionViewPublishesJustification: the PPK's justification of a rank 2 or 3 choice is
// in the selection as the store keeps it.
func TestSelectionViewPublishesJustification(t *testing.T) {
	v, err := selectionView(testCatalog(t), store.Selection{ID: "s", Stage: "STAGE_CLOSED", AppointedApplication: "app-2",
		PPKDecreeRef: "800/1/2026", AppointmentJustification: "rekam jejak"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v.GetAppointmentJustification() != "rekam jejak" || v.GetAppointedApplication() != "selections/s/applications/app-2" {
		t.Errorf("view %v", v)
	}
}

// TestSelectionViewGivesBothClocks: under a time scale a stage's opening and closing are
// both given in selection time (stage_open_time, stage_close_time) and both on the wall
// clock (stage_open_wall_time, stage_close_wall_time); at real time the two agree.
func TestSelectionViewGivesBothClocks(t *testing.T) {
	t0 := time.Date(2026, 7, 6, 1, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	scaled := []byte(`{"timeScale":1440}`) // one selection day per wall minute
	tests := []struct {
		name                             string
		sel                              store.Selection
		open, openWall, close, closeWall time.Time
	}{
		{"scaled announcement", store.Selection{ID: "s", Stage: store.StageAnnouncement, Config: scaled,
			Window: store.Window{Opens: t0, OpensWall: t0, Closes: t0.Add(4 * day), ClosesWall: t0.Add(4 * time.Minute)}},
			t0, t0, t0.Add(4 * day), t0.Add(4 * time.Minute)},
		{"scaled later stage", store.Selection{ID: "s", Stage: "STAGE_INTERVIEW", Config: scaled,
			StageOpenTime: t0.Add(10 * day), StageOpenWallTime: t0.Add(10 * time.Minute)},
			t0.Add(10 * day), t0.Add(10 * time.Minute), time.Time{}, time.Time{}},
		{"real time, wall not recorded", store.Selection{ID: "s", Stage: store.StageAnnouncement, Config: []byte(`{"timeScale":1}`),
			Window: store.Window{Opens: t0, Closes: t0.Add(4 * day), ClosesWall: t0.Add(4 * day)}},
			t0, t0, t0.Add(4 * day), t0.Add(4 * day)},
	}
	at := func(ts interface{ AsTime() time.Time }, ok bool) time.Time {
		if !ok {
			return time.Time{}
		}
		return ts.AsTime()
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := selectionView(testCatalog(t), tt.sel, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := []time.Time{at(v.GetStageOpenTime(), v.StageOpenTime != nil), at(v.GetStageOpenWallTime(), v.StageOpenWallTime != nil),
				at(v.GetStageCloseTime(), v.StageCloseTime != nil), at(v.GetStageCloseWallTime(), v.StageCloseWallTime != nil)}
			want := []time.Time{tt.open, tt.openWall, tt.close, tt.closeWall}
			for i := range want {
				if !got[i].Equal(want[i]) {
					t.Errorf("open, open wall, close, close wall = %v, want %v", got, want)
					break
				}
			}
		})
	}
}

// TestSendAnswersFromTheStoreLedger: with the real store, a request the ledger holds (the
// workflow has since continued as new) is answered from it without reaching the workflow,
// and the same ID with other content is ALREADY_EXISTS.
func TestSendAnswersFromTheStoreLedger(t *testing.T) {
	st, _ := resultFixture(t)
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "admin", Role: auth.RoleAdmin})
	args := workflows.CancelArgs{Actor: workflows.Actor{Subject: "admin", Role: workflows.RoleAdmin}, Reason: "anggaran dialihkan"}
	first := workflows.UpdateResult{Seq: 4, Stage: workflows.StageCancelled}
	// What the activity writes for the accepted command: its arguments' JSON and its answer.
	payload, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	answer, err := json.Marshal(first)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ApplyCommand(context.Background(), store.Command{WorkflowID: workflows.WorkflowID("kadis-2026"), SelectionID: "kadis-2026",
		Key: "req-cancel-0001", Seq: 4, Kind: workflows.CmdCancel, Actor: store.Actor{Subject: "admin", Role: "ROLE_ADMIN"},
		At: time.Date(2026, 7, 20, 1, 0, 0, 0, time.UTC), Stage: "STAGE_CANCELLED", Payload: payload, Answer: answer, CancelReason: args.Reason}); err != nil {
		t.Fatal(err)
	}
	// The workflow would refuse anything now: the selection has ended.
	fw := &fakeWorkflows{handle: fakeHandle{err: errors.New("must not be asked")}}
	c := commander{wf: fw, ledger: st, logger: slog.New(slog.DiscardHandler)}
	got, err := c.send(ctx, "kadis-2026", "req-cancel-0001", workflows.UpdateCancel, args)
	if err != nil || got != first || fw.got.UpdateID != "" {
		t.Fatalf("retry: %+v, %v (workflow asked: %q)", got, err, fw.got.UpdateID)
	}
	other := args
	other.Reason = "alasan lain"
	if _, err := c.send(ctx, "kadis-2026", "req-cancel-0001", workflows.UpdateCancel, other); status.Code(err) != codes.AlreadyExists {
		t.Fatalf("other content: %v, want AlreadyExists", err)
	}
}
