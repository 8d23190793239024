package server

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/workflows"
	"github.com/bkpsdm/seleksi/workflows/calendar"
)

var msgOwnDeclaration = i18n.Text{
	ID: "anggota panitia hanya dapat menyatakan konflik kepentingannya sendiri",
	EN: "a committee member can only declare their own conflict of interest",
}

// AdvanceSelection closes the current stage and publishes its result.
func (s *SelectionServer) AdvanceSelection(ctx context.Context, req *seleksiv1.AdvanceSelectionRequest) (*seleksiv1.AdvanceSelectionResponse, error) {
	me, err := s.me(ctx, segment(req.GetName(), 0))
	if err != nil {
		return nil, err
	}
	id := segment(req.GetName(), 0)
	stage := wfStage(req.GetExpectedStage())
	_, err = s.cmd.send(ctx, id, req.GetRequestId(), workflows.UpdateAdvanceStage, workflows.AdvanceArgs{
		Actor: me, Stage: stage, Reason: req.GetReason()})
	if err != nil {
		return nil, err
	}
	sel, err := s.view(ctx, id)
	if err != nil {
		return nil, err
	}
	out := &seleksiv1.AdvanceSelectionResponse{Selection: sel}
	out.PublishedResult = resultOfCommand(ctx, s.store, s.cmd.cat, s.cmd.logger, id, string(stage))
	return out, nil
}

// resultInput converts one line of a score sheet.
func resultInput(r *seleksiv1.ApplicationResult) workflows.ResultInput {
	in := workflows.ResultInput{
		ApplicationID: segment(r.GetApplication(), 1),
		Reason:        r.GetReason(),
		Managerial:    toScore(r.GetManagerialScore()),
		SocioCultural: toScore(r.GetSocioCulturalScore()),
	}
	if r.GetOutcome() != seleksiv1.Outcome_OUTCOME_UNSPECIFIED {
		in.Outcome = workflows.Outcome(r.GetOutcome().String())
	}
	if r.GetCompetencyCategory() != seleksiv1.CompetencyCategory_COMPETENCY_CATEGORY_UNSPECIFIED {
		in.Category = workflows.CompetencyCategory(r.GetCompetencyCategory().String())
	}
	for _, sc := range r.GetScores() {
		in.Scores = append(in.Scores, workflows.ComponentScore{
			Component: workflows.ScoreComponent(sc.GetComponent().String()), Score: toScore(sc.GetScore())})
	}
	for _, v := range r.GetItems() {
		in.Items = append(in.Items, workflows.ItemVerdict{Item: v.GetItem(), Met: v.GetMet(), Note: v.GetNote()})
	}
	return in
}

// RecordResults records a batch of results for the current stage in one update.
func (s *SelectionServer) RecordResults(ctx context.Context, req *seleksiv1.RecordResultsRequest) (*seleksiv1.RecordResultsResponse, error) {
	p := principal(ctx)
	if m := req.GetMemberId(); m != "" && m != p.Subject {
		// Scores are attributed to the member who sends them; entering a sheet in another
		// member's name would break the audit trail of who scored whom.
		return nil, localizedError(ctx, codes.PermissionDenied, i18n.Text{
			ID: "nilai hanya dapat dicatat atas nama Anda sendiri", EN: "scores can only be recorded in your own name"})
	}
	me, err := s.me(ctx, segment(req.GetName(), 0))
	if err != nil {
		return nil, err
	}
	id := segment(req.GetName(), 0)
	if n := proto.Size(req); n > maxRecordResultsBytes {
		return nil, batchTooLarge(ctx, n)
	}
	args := workflows.RecordResultsArgs{Actor: me, Stage: wfStage(req.GetStage()),
		Correct: req.GetCorrection(), Reason: req.GetCorrectionReason()}
	for _, r := range req.GetResults() {
		args.Results = append(args.Results, resultInput(r))
	}
	if _, err := s.cmd.send(ctx, id, req.GetRequestId(), workflows.UpdateRecordResults, args); err != nil {
		return nil, err
	}
	sel, err := s.view(ctx, id)
	if err != nil {
		return nil, err
	}
	return &seleksiv1.RecordResultsResponse{RecordedCount: uint32(len(args.Results)), Selection: sel}, nil
}

// CorrectResult records the chair's correction of a published stage result, which the
// workflow re-publishes as a new revision with a new objection window.
func (s *SelectionServer) CorrectResult(ctx context.Context, req *seleksiv1.CorrectResultRequest) (*seleksiv1.CorrectResultResponse, error) {
	if n := proto.Size(req); n > maxRecordResultsBytes {
		return nil, batchTooLarge(ctx, n)
	}
	me, err := s.me(ctx, segment(req.GetName(), 0))
	if err != nil {
		return nil, err
	}
	id := segment(req.GetName(), 0)
	stage := wfStage(req.GetStage())
	args := workflows.CorrectResultArgs{Actor: me, Stage: stage, Reason: req.GetReason()}
	for _, r := range req.GetResults() {
		args.Results = append(args.Results, resultInput(r))
	}
	if _, err := s.cmd.send(ctx, id, req.GetRequestId(), workflows.UpdateCorrectResult, args); err != nil {
		return nil, err
	}
	sel, err := s.view(ctx, id)
	if err != nil {
		return nil, err
	}
	out := &seleksiv1.CorrectResultResponse{Selection: sel}
	out.PublishedResult = resultOfCommand(ctx, s.store, s.cmd.cat, s.cmd.logger, id, string(stage))
	return out, nil
}

// DeclareConflict recuses the calling member from an application.
func (s *SelectionServer) DeclareConflict(ctx context.Context, req *seleksiv1.DeclareConflictRequest) (*seleksiv1.DeclareConflictResponse, error) {
	p := principal(ctx)
	if req.GetMemberId() != p.Subject {
		return nil, localizedError(ctx, codes.PermissionDenied, msgOwnDeclaration)
	}
	me, err := s.me(ctx, segment(req.GetName(), 0))
	if err != nil {
		return nil, err
	}
	id := segment(req.GetName(), 0)
	appID := segment(req.GetApplication(), 1)
	if _, err := s.cmd.send(ctx, id, req.GetRequestId(), workflows.UpdateDeclareConflict, workflows.DeclareConflictArgs{
		Actor: me, ApplicationIDs: []string{appID}, Relationship: req.GetRelationship(), Reason: req.GetReason()}); err != nil {
		return nil, err
	}
	sel, err := s.store.GetSelection(ctx, id)
	if err != nil {
		return nil, storeError(ctx, s.cmd.logger, err)
	}
	// The member's own conflict: recorded under their actor ID, shown under their subject.
	who := subjects{me.Subject: p.Subject}
	for _, c := range sel.Conflicts {
		if c.MemberID == me.Subject && c.ApplicationID == appID {
			return &seleksiv1.DeclareConflictResponse{Conflict: conflictView(id, c, who)}, nil
		}
	}
	return &seleksiv1.DeclareConflictResponse{Conflict: &seleksiv1.Conflict{
		MemberId: p.Subject, Application: req.GetApplication(), Relationship: req.GetRelationship(), Reason: req.GetReason(), DeclaredBy: p.Subject}}, nil
}

// DecideSelection records the committee's ranked shortlist.
func (s *SelectionServer) DecideSelection(ctx context.Context, req *seleksiv1.DecideSelectionRequest) (*seleksiv1.DecideSelectionResponse, error) {
	me, err := s.me(ctx, segment(req.GetName(), 0))
	if err != nil {
		return nil, err
	}
	id := segment(req.GetName(), 0)
	ranked := append([]*seleksiv1.RankedCandidate(nil), req.GetRanked()...)
	// The workflow takes the shortlist in rank order; the API lets ranks arrive in any order.
	slices.SortStableFunc(ranked, func(a, b *seleksiv1.RankedCandidate) int { return int(a.GetRank()) - int(b.GetRank()) })
	args := workflows.DecideArgs{Actor: me, Statement: req.GetShortfallStatement()}
	for _, r := range ranked {
		args.Shortlist = append(args.Shortlist, workflows.ShortlistInput{ApplicationID: segment(r.GetApplication(), 1), Reason: r.GetReason()})
	}
	if _, err := s.cmd.send(ctx, id, req.GetRequestId(), workflows.UpdateDecide, args); err != nil {
		return nil, err
	}
	sel, err := s.view(ctx, id)
	if err != nil {
		return nil, err
	}
	out := &seleksiv1.DecideSelectionResponse{Selection: sel}
	out.PublishedResult = resultOfCommand(ctx, s.store, s.cmd.cat, s.cmd.logger, id, string(workflows.StageCommitteeDecision))
	return out, nil
}

// AppointCandidate records the PPK's choice and closes the selection.
func (s *SelectionServer) AppointCandidate(ctx context.Context, req *seleksiv1.AppointCandidateRequest) (*seleksiv1.AppointCandidateResponse, error) {
	me, err := s.me(ctx, segment(req.GetName(), 0))
	if err != nil {
		return nil, err
	}
	id := segment(req.GetName(), 0)
	reason := req.GetReason()
	if reason == "" {
		// Selections started before the justification (their runs still require a reason
		// for rank 2 or 3) take the justification as that reason; new runs read it as the
		// justification and the reason stays a note.
		reason = req.GetJustification()
	}
	if _, err := s.cmd.send(ctx, id, req.GetRequestId(), workflows.UpdateAppoint, workflows.AppointArgs{
		Actor: me, ApplicationID: segment(req.GetApplication(), 1),
		PPKDecreeRef: req.GetPpkDecreeRef(), OversightRecommendationRef: req.GetOversightRecommendationRef(),
		Reason: reason, Justification: req.GetJustification()}); err != nil {
		return nil, err
	}
	sel, err := s.view(ctx, id)
	if err != nil {
		return nil, err
	}
	return &seleksiv1.AppointCandidateResponse{Selection: sel}, nil
}

// CancelSelection cancels the selection with a reason.
func (s *SelectionServer) CancelSelection(ctx context.Context, req *seleksiv1.CancelSelectionRequest) (*seleksiv1.CancelSelectionResponse, error) {
	me, err := s.me(ctx, segment(req.GetName(), 0))
	if err != nil {
		return nil, err
	}
	id := segment(req.GetName(), 0)
	if _, err := s.cmd.send(ctx, id, req.GetRequestId(), workflows.UpdateCancel, workflows.CancelArgs{
		Actor: me, Reason: req.GetReason()}); err != nil {
		return nil, err
	}
	sel, err := s.view(ctx, id)
	if err != nil {
		return nil, err
	}
	return &seleksiv1.CancelSelectionResponse{Selection: sel}, nil
}

// SupplyHolidays adds the days off of a year the selection's calendar does not cover yet.
func (s *SelectionServer) SupplyHolidays(ctx context.Context, req *seleksiv1.SupplyHolidaysRequest) (*seleksiv1.SupplyHolidaysResponse, error) {
	me, err := s.me(ctx, segment(req.GetName(), 0))
	if err != nil {
		return nil, err
	}
	id := segment(req.GetName(), 0)
	year, err := suppliedYear(req)
	if err != nil {
		return nil, localizedError(ctx, codes.InvalidArgument, msgInvalid, &errdetails.BadRequest{
			FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "days", Description: err.Error(), Reason: "invalid"}}})
	}
	if _, err := s.cmd.send(ctx, id, req.GetRequestId(), workflows.UpdateSupplyHolidays, workflows.SupplyHolidaysArgs{
		Actor: me, Years: []calendar.Year{year}, Reason: req.GetReason()}); err != nil {
		return nil, err
	}
	sel, err := s.view(ctx, id)
	if err != nil {
		return nil, err
	}
	return &seleksiv1.SupplyHolidaysResponse{Selection: sel}, nil
}

// suppliedYear turns the request's days into one year's holiday list.
func suppliedYear(req *seleksiv1.SupplyHolidaysRequest) (calendar.Year, error) {
	y := calendar.Year{Year: int(req.GetYear()), Source: calendar.SourceSelection}
	for i, d := range req.GetDays() {
		date, err := calendar.ParseDate(d.GetDate())
		if err != nil {
			return calendar.Year{}, fmt.Errorf("days[%d]: %w", i, err)
		}
		if date.Year != y.Year {
			return calendar.Year{}, fmt.Errorf("days[%d]: %s is not in %d", i, d.GetDate(), y.Year)
		}
		if d.GetWorkingDay() {
			return calendar.Year{}, fmt.Errorf("days[%d]: a supplied year lists days off only", i)
		}
		y.Days = append(y.Days, calendar.Holiday{Date: date, Kind: calendar.NationalHoliday, NameID: d.GetDescription(), NameEN: d.GetDescription()})
	}
	return y, nil
}

// maxRecordResultsBytes bounds one batch of results. The workflow keeps the batch in its
// history several times over (the update's arguments, the command's record with the values
// a correction replaces and the changed checklists), and Temporal refuses a workflow task
// whose payloads pass 2 MB: a batch beyond this is refused here, with a clear word, instead
// of failing inside the workflow.
const maxRecordResultsBytes = 256 << 10

// batchTooLarge refuses a batch of results of n bytes.
func batchTooLarge(ctx context.Context, n int) error {
	kib, limit := strconv.Itoa((n+1023)/1024), strconv.Itoa(maxRecordResultsBytes/1024)
	text := i18n.Text{
		ID: "kumpulan hasil terlalu besar (" + kib + " KiB, paling banyak " + limit + " KiB): kirim dalam beberapa kumpulan yang lebih kecil",
		EN: "the batch of results is too large (" + kib + " KiB, at most " + limit + " KiB): send it in smaller batches",
	}
	return localizedError(ctx, codes.InvalidArgument, text, &errdetails.BadRequest{
		FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "results", Description: text.In(language(ctx)), Reason: "BATCH_TOO_LARGE"}},
	})
}
