package server

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"buf.build/go/protovalidate"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/reconcile"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// startRecorder is a Temporal client that records the workflows it is asked to start, or
// fails every start with err (a process that dies before the start looks the same to the
// store).
type startRecorder struct {
	mu     sync.Mutex
	err    error
	starts []recordedStart
}

type recordedStart struct {
	opts client.StartWorkflowOptions
	in   workflows.SelectionInput
}

func (f *startRecorder) ExecuteWorkflow(_ context.Context, o client.StartWorkflowOptions, _ any, args ...any) (client.WorkflowRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	f.starts = append(f.starts, recordedStart{opts: o, in: args[0].(workflows.SelectionInput)})
	return nil, nil
}

func (f *startRecorder) UpdateWorkflow(context.Context, client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	return nil, errors.New("not used")
}

// createNow is 10:00 WITA on Monday 30 November 2026, when only 2026's holiday list ships.
var createNow = time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)

func wita(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		t.Fatal(err)
	}
	return v.Add(-8 * time.Hour).UTC()
}

func newCreateServer(t *testing.T, wf Workflows) (*SelectionServer, *store.Store) {
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
	return NewSelectionServer(st, wf, testCatalog(t), slog.New(slog.DiscardHandler), SelectionOptions{TaskQueue: "seleksi",
		Now: func() time.Time { return createNow }}), st
}

func adminContext(lang string) context.Context {
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{Subject: "sekretariat", Role: auth.RoleAdmin})
	if lang != "" {
		ctx = metadata.NewIncomingContext(ctx, metadata.Pairs("accept-language", lang))
	}
	return ctx
}

// holidays2027 are days off of 2027 as a selection supplies them at creation.
func holidays2027() []*seleksiv1.HolidayOverride {
	return []*seleksiv1.HolidayOverride{
		{Date: "2027-01-01", Description: "Tahun Baru 2027 Masehi"},
		{Date: "2027-02-06", Description: "Tahun Baru Imlek"},
	}
}

// TestCreateSelectionChecksThePlan: a plan whose announcement, an allowed extension or the
// first objection window reaches 2027 (no list shipped) is refused at once with a field
// violation naming the window and saying how to supply the year, in the caller's language;
// nothing is stored and no workflow starts. Supplying 2027 makes the same plan pass, and a
// scheduled announcement is counted from its opening.
func TestCreateSelectionChecksThePlan(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(t *testing.T, s *seleksiv1.Selection)
		lang   string
		field  string // the violation's field; empty means accepted
		reason string
	}{
		{name: "fits in 2026", edit: func(*testing.T, *seleksiv1.Selection) {}},
		{name: "announcement reaches 2027", lang: "en", field: "selection.announcementWorkingDays", reason: "YearNotCovered",
			edit: func(_ *testing.T, s *seleksiv1.Selection) { s.AnnouncementWorkingDays, s.MaxExtensions = 25, 0 }},
		{name: "an extension reaches 2027", field: "selection.extensionWorkingDays", reason: "YearNotCovered",
			edit: func(_ *testing.T, s *seleksiv1.Selection) {
				s.AnnouncementWorkingDays, s.ExtensionWorkingDays, s.MaxExtensions = 15, 10, 1
			}},
		// The finding: 20 working days from today answered 200, then the workflow failed.
		{name: "the first objection window reaches 2027", lang: "en", field: "selection.objectionWindowWorkingDays", reason: "YearNotCovered",
			edit: func(_ *testing.T, s *seleksiv1.Selection) { s.AnnouncementWorkingDays, s.MaxExtensions = 20, 0 }},
		{name: "2027 supplied", edit: func(_ *testing.T, s *seleksiv1.Selection) {
			s.AnnouncementWorkingDays, s.ExtensionWorkingDays, s.MaxExtensions = 25, 10, 3
			s.HolidayOverrides = holidays2027()
		}},
		{name: "scheduled into 2027", field: "selection.announcementWorkingDays", reason: "YearNotCovered",
			edit: func(t *testing.T, s *seleksiv1.Selection) {
				s.AnnouncementOpenTime = timestamppb.New(wita(t, "2026-12-28 08:00"))
			}},
		{name: "scheduled within 2026", edit: func(t *testing.T, s *seleksiv1.Selection) {
			s.AnnouncementOpenTime = timestamppb.New(wita(t, "2026-12-07 08:00"))
		}},
		{name: "opening in the past", field: "selection.announcementOpenTime", reason: "OUT_OF_RANGE",
			edit: func(t *testing.T, s *seleksiv1.Selection) {
				s.AnnouncementOpenTime = timestamppb.New(createNow.Add(-time.Minute))
			}},
		{name: "opening more than a year ahead", lang: "en", field: "selection.announcementOpenTime", reason: "OUT_OF_RANGE",
			edit: func(t *testing.T, s *seleksiv1.Selection) {
				s.AnnouncementOpenTime = timestamppb.New(createNow.Add(367 * 24 * time.Hour))
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wf := &startRecorder{}
			srv, st := newCreateServer(t, wf)
			sel := validSelection()
			tc.edit(t, sel)
			resp, err := srv.CreateSelection(adminContext(tc.lang), &seleksiv1.CreateSelectionRequest{
				RequestId: "req-create-01", SelectionId: "kadis-pupr-2026", Selection: sel})
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if len(wf.starts) != 1 {
					t.Fatalf("%d workflows started", len(wf.starts))
				}
				return
			}
			if status.Code(err) != codes.InvalidArgument {
				t.Fatalf("got %v (response %v), want INVALID_ARGUMENT", err, resp)
			}
			v := violation(t, err)
			if v.GetField() != tc.field || v.GetReason() != tc.reason {
				t.Errorf("violation %s (%s), want %s (%s): %s", v.GetField(), v.GetReason(), tc.field, tc.reason, v.GetDescription())
			}
			d := v.GetDescription()
			if tc.reason == "YearNotCovered" {
				if !strings.Contains(d, "2027") || !strings.Contains(d, "holidayOverrides") {
					t.Errorf("description %q does not say how to supply 2027", d)
				}
				english := strings.Contains(d, "working day")
				if english != (tc.lang == "en") {
					t.Errorf("description %q is not in the asked language %q", d, tc.lang)
				}
			}
			if len(wf.starts) != 0 {
				t.Errorf("a workflow was started for a refused plan")
			}
			if _, err := st.GetSelection(context.Background(), "kadis-pupr-2026"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a refused selection was stored: %v", err)
			}
		})
	}
}

func violation(t *testing.T, err error) *errdetails.BadRequest_FieldViolation {
	t.Helper()
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) > 0 {
			if n := len(br.GetFieldViolations()); n != 1 {
				t.Errorf("%d field violations: %v", n, br.GetFieldViolations())
			}
			return br.GetFieldViolations()[0]
		}
	}
	t.Fatalf("no field violation in %v", err)
	return nil
}

// TestCreateSelectionReturnsThePlan: the create response carries the announcement window in
// UTC and in the agency's zone, counted by the workflow's own calendar; the workflow starts
// with the same input and the store marks it started.
func TestCreateSelectionReturnsThePlan(t *testing.T) {
	tests := []struct {
		name      string
		openAt    string
		stage     seleksiv1.Stage
		wantPlan  *seleksiv1.AnnouncementPlan
		wantOpens time.Time
	}{
		// Five working days from Monday 30 November (10:00 WITA): until the end of Friday 4
		// December; two extensions of three days reach the end of Monday 14 December.
		{name: "opens at once", stage: seleksiv1.Stage_STAGE_ANNOUNCEMENT, wantPlan: &seleksiv1.AnnouncementPlan{
			TimeZone: seleksiv1.TimeZone_TIME_ZONE_WITA, OpenLocalTime: "2026-11-30T10:00:00+08:00",
			CloseLocalTime: "2026-12-05T00:00:00+08:00", LastDay: "2026-12-04", ExtensionsPossible: true,
			LatestCloseLocalTime: "2026-12-15T00:00:00+08:00", LatestLastDay: "2026-12-14"}},
		{name: "scheduled", openAt: "2026-12-07 08:00", stage: seleksiv1.Stage_STAGE_SCHEDULED, wantPlan: &seleksiv1.AnnouncementPlan{
			TimeZone: seleksiv1.TimeZone_TIME_ZONE_WITA, Scheduled: true, OpenLocalTime: "2026-12-07T08:00:00+08:00",
			CloseLocalTime: "2026-12-12T00:00:00+08:00", LastDay: "2026-12-11", ExtensionsPossible: true,
			LatestCloseLocalTime: "2026-12-22T00:00:00+08:00", LatestLastDay: "2026-12-21"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wf := &startRecorder{}
			srv, st := newCreateServer(t, wf)
			sel := validSelection()
			if tc.openAt != "" {
				sel.AnnouncementOpenTime = timestamppb.New(wita(t, tc.openAt))
			}
			resp, err := srv.CreateSelection(adminContext(""), &seleksiv1.CreateSelectionRequest{
				RequestId: "req-create-01", SelectionId: "kadis-pupr-2026", Selection: sel})
			if err != nil {
				t.Fatal(err)
			}
			p := resp.GetAnnouncementPlan()
			want := tc.wantPlan
			if p.GetTimeZone() != want.TimeZone || p.GetScheduled() != want.Scheduled || p.GetOpenLocalTime() != want.OpenLocalTime ||
				p.GetCloseLocalTime() != want.CloseLocalTime || p.GetLastDay() != want.LastDay ||
				p.GetExtensionsPossible() != want.ExtensionsPossible || p.GetLatestCloseLocalTime() != want.LatestCloseLocalTime ||
				p.GetLatestLastDay() != want.LatestLastDay {
				t.Errorf("plan\n got %v\nwant %v", p, want)
			}
			closes, _ := time.Parse(time.RFC3339, want.CloseLocalTime)
			if !p.GetCloseTime().AsTime().Equal(closes) || p.GetCloseTime().AsTime().Location() != time.UTC {
				t.Errorf("close time %v, want %v in UTC", p.GetCloseTime().AsTime(), closes)
			}
			if got := resp.GetSelection().GetStage(); got != tc.stage {
				t.Errorf("stage %s, want %s", got, tc.stage)
			}
			if len(wf.starts) != 1 {
				t.Fatalf("%d starts", len(wf.starts))
			}
			s := wf.starts[0]
			if s.opts.ID != workflows.WorkflowID("kadis-pupr-2026") || s.opts.TaskQueue != "seleksi" ||
				s.opts.WorkflowIDConflictPolicy != enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING {
				t.Errorf("start options %+v", s.opts)
			}
			opens, _ := time.Parse(time.RFC3339, want.OpenLocalTime)
			if tc.openAt == "" {
				opens = time.Time{}
			}
			if !s.in.AnnouncementOpensAt.Equal(opens) {
				t.Errorf("workflow input opens at %v, want %v", s.in.AnnouncementOpensAt, opens)
			}
			if pending, err := st.PendingStarts(context.Background(), createNow.Add(time.Hour), 10); err != nil || len(pending) != 0 {
				t.Errorf("started workflow still pending: %v %v", pending, err)
			}
			got, err := srv.GetSelection(context.Background(), &seleksiv1.GetSelectionRequest{Name: "selections/kadis-pupr-2026"})
			if err != nil || got.GetSelection().GetStage() != tc.stage ||
				(tc.openAt != "" && !got.GetSelection().GetAnnouncementOpenTime().AsTime().Equal(opens)) {
				t.Errorf("GET: %v, %v", got.GetSelection(), err)
			}
		})
	}
}

// TestCreateSelectionDiesBeforeStartIsReconciled: the store write succeeds and the process
// "dies" before the workflow starts (every start fails). The selection exists with its
// recorded input; the reconciler starts its workflow with that input and marks it, and a
// retry of the request afterwards returns the selection without starting anything twice.
func TestCreateSelectionDiesBeforeStartIsReconciled(t *testing.T) {
	dead := &startRecorder{err: errors.New("process killed")}
	srv, st := newCreateServer(t, dead)
	req := &seleksiv1.CreateSelectionRequest{RequestId: "req-create-01", SelectionId: "kadis-pupr-2026", Selection: validSelection()}
	if _, err := srv.CreateSelection(adminContext(""), req); err == nil {
		t.Fatal("the start failed, yet the create succeeded")
	}
	ctx := context.Background()
	if _, err := st.GetSelection(ctx, "kadis-pupr-2026"); err != nil {
		t.Fatalf("the store write did not happen: %v", err)
	}

	alive := &startRecorder{}
	r := reconcile.New(alive, st, slog.New(slog.DiscardHandler), reconcile.Options{TaskQueue: "seleksi", Interval: time.Second,
		Grace: 3 * time.Second, Now: func() time.Time { return createNow.Add(5 * time.Second) }})
	if n, err := r.RunOnce(ctx); n != 1 || err != nil {
		t.Fatalf("reconciler started %d, %v", n, err)
	}
	if len(alive.starts) != 1 {
		t.Fatalf("%d starts", len(alive.starts))
	}
	s := alive.starts[0]
	if s.opts.ID != workflows.WorkflowID("kadis-pupr-2026") || s.opts.TaskQueue != "seleksi" ||
		s.in.SelectionID != "kadis-pupr-2026" || s.in.Windows.AnnouncementDays != 5 || s.in.Validate() != nil {
		t.Errorf("reconciler started %+v with %+v", s.opts, s.in)
	}
	if n, err := r.RunOnce(ctx); n != 0 || err != nil {
		t.Errorf("second pass started %d, %v", n, err)
	}
	// The client's retry finds the stored selection; the start is idempotent.
	srv2 := NewSelectionServer(st, alive, testCatalog(t), slog.New(slog.DiscardHandler), SelectionOptions{TaskQueue: "seleksi",
		Now: func() time.Time { return createNow.Add(10 * time.Second) }})
	if resp, err := srv2.CreateSelection(adminContext(""), req); err != nil || resp.GetSelection().GetName() != "selections/kadis-pupr-2026" {
		t.Fatalf("retry: %v, %v", resp, err)
	}
}

// TestAnnouncementOpenTimeRules: the proto's rules on announcement_open_time, which the
// validation interceptor enforces with the real clock, accept a future opening within a
// year and refuse a past one or one further ahead.
func TestAnnouncementOpenTimeRules(t *testing.T) {
	tests := []struct {
		name  string
		in    time.Duration
		valid bool
	}{
		{"tomorrow", 24 * time.Hour, true},
		{"in eleven months", 330 * 24 * time.Hour, true},
		// The handler refuses a past opening for a new create (TestCreateSelectionChecksThePlan)
		// and accepts it for a retry of a stored one (TestCreateSelectionRetryAfterOpening).
		{"an hour ago", -time.Hour, true},
		{"in thirteen months", 400 * 24 * time.Hour, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sel := validSelection()
			sel.AnnouncementOpenTime = timestamppb.New(time.Now().Add(tc.in))
			err := protovalidate.Validate(&seleksiv1.CreateSelectionRequest{RequestId: "req-00000001", Selection: sel})
			if (err == nil) != tc.valid {
				t.Errorf("valid = %v, want %v: %v", err == nil, tc.valid, err)
			}
		})
	}
}

// TestCreateSelectionRetryAfterOpening: a retry of a scheduled create that the store holds
// gets the first answer, the same plan included, even once the opening has passed; a new
// request with that opening is refused.
func TestCreateSelectionRetryAfterOpening(t *testing.T) {
	wf := &startRecorder{}
	srv, _ := newCreateServer(t, wf)
	sel := validSelection()
	sel.AnnouncementOpenTime = timestamppb.New(wita(t, "2026-12-07 08:00"))
	req := &seleksiv1.CreateSelectionRequest{RequestId: "req-create-01", SelectionId: "kadis-pupr-2026", Selection: sel}
	first, err := srv.CreateSelection(adminContext(""), req)
	if err != nil {
		t.Fatal(err)
	}
	srv.opts.Now = func() time.Time { return wita(t, "2026-12-08 09:00") }
	again, err := srv.CreateSelection(adminContext(""), req)
	if err != nil {
		t.Fatalf("retry after the opening: %v", err)
	}
	if !proto.Equal(again.GetAnnouncementPlan(), first.GetAnnouncementPlan()) || again.GetSelection().GetName() != first.GetSelection().GetName() {
		t.Errorf("retry answered %v, first answer %v", again, first)
	}
	_, err = srv.CreateSelection(adminContext(""), &seleksiv1.CreateSelectionRequest{RequestId: "req-create-02", SelectionId: "kadis-pupr-2027", Selection: sel})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("a new create opening in the past: %v, want InvalidArgument", err)
	}
}

// TestCreateSelectionValidateOnly: validate_only answers with the plan the create would use,
// with the listed days off inside it named in the caller's language, and stores nothing,
// starts nothing and leaves the request_id free; a plan with violations gets the same
// violations as a real create.
func TestCreateSelectionValidateOnly(t *testing.T) {
	wf := &startRecorder{}
	srv, st := newCreateServer(t, wf)
	sel := validSelection()
	// Five working days from Monday 21 December 2026 skip the joint leave day of 24 December
	// and Christmas Day: until the end of Tuesday 29 December.
	sel.AnnouncementOpenTime = timestamppb.New(wita(t, "2026-12-21 08:00"))
	sel.MaxExtensions = 0
	// The first objection window reaches 2027.
	sel.HolidayOverrides = holidays2027()
	resp, err := srv.CreateSelection(adminContext("en"), &seleksiv1.CreateSelectionRequest{
		RequestId: "req-create-01", SelectionId: "kadis-pupr-2026", Selection: sel, ValidateOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	p := resp.GetAnnouncementPlan()
	if resp.GetSelection() != nil || p.GetLastDay() != "2026-12-29" || !p.GetScheduled() {
		t.Errorf("validate_only answer: selection %v, plan %v", resp.GetSelection(), p)
	}
	off := p.GetDaysOff()
	if len(off) != 2 || off[0].GetDate() != "2026-12-24" || !off[0].GetJointLeave() || off[1].GetDate() != "2026-12-25" ||
		off[1].GetName() != "Christmas Day" || off[1].GetJointLeave() {
		t.Errorf("days off %v", off)
	}
	if len(wf.starts) != 0 {
		t.Errorf("validate_only started %d workflows", len(wf.starts))
	}
	if _, err := st.GetSelection(context.Background(), "kadis-pupr-2026"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("validate_only stored the selection: %v", err)
	}
	// The same request_id then creates the selection for real.
	if _, err := srv.CreateSelection(adminContext(""), &seleksiv1.CreateSelectionRequest{
		RequestId: "req-create-01", SelectionId: "kadis-pupr-2026", Selection: sel}); err != nil {
		t.Fatalf("create after validate_only: %v", err)
	}
	// A preview of a selection ID now taken fails as the create would.
	if _, err := srv.CreateSelection(adminContext(""), &seleksiv1.CreateSelectionRequest{
		RequestId: "req-create-03", SelectionId: "kadis-pupr-2026", Selection: sel, ValidateOnly: true}); status.Code(err) != codes.AlreadyExists {
		t.Errorf("validate_only of a taken ID: %v, want AlreadyExists", err)
	}
	bad := validSelection()
	bad.AnnouncementOpenTime = timestamppb.New(wita(t, "2026-11-01 08:00"))
	_, err = srv.CreateSelection(adminContext(""), &seleksiv1.CreateSelectionRequest{
		RequestId: "req-create-02", Selection: bad, ValidateOnly: true})
	if v := violation(t, err); v.GetField() != fieldOpenTime {
		t.Errorf("violation %v", v)
	}
}
