package server

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/official"
	"github.com/bkpsdm/seleksi/internal/report"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// ReportStore is what the reports read.
type ReportStore interface {
	report.Reader
	ListSelections(ctx context.Context, opts store.ListOptions) (store.Page[store.Selection], error)
}

// ReportServer implements ReportService: score recaps, the dashboard and the
// merit-compliance report, computed from the store on each request.
type ReportServer struct {
	seleksiv1.UnimplementedReportServiceServer
	store  ReportStore
	cat    *i18n.Catalog
	logger *slog.Logger
	now    func() time.Time
}

var _ seleksiv1.ReportServiceServer = (*ReportServer)(nil)

// NewReportServer serves reports from st; now is the clock deadlines are compared with.
func NewReportServer(st ReportStore, cat *i18n.Catalog, logger *slog.Logger, now func() time.Time) *ReportServer {
	if now == nil {
		now = time.Now
	}
	return &ReportServer{store: st, cat: cat, logger: logger, now: now}
}

var msgReportDefinition = i18n.Text{
	ID: "definisi seleksi yang tersimpan tidak dapat dibaca untuk laporan",
	EN: "the selection's stored definition cannot be read for the report"}

func (s *ReportServer) definition(sel store.Selection) (report.Definition, error) {
	return ReportDefinition(sel)
}

// ReportDefinition decodes what the reports need of a selection's stored definition, the
// same way the selection was started from it. The official merit-compliance report uses it
// too (official.DefinitionFunc).
func ReportDefinition(sel store.Selection) (report.Definition, error) {
	def := &seleksiv1.Selection{}
	if len(sel.Config) > 0 {
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(sel.Config, def); err != nil {
			return report.Definition{}, err
		}
	}
	// Violations concern creating a selection today; a recorded one is reported as it is.
	in, _, err := selectionInput(sel.ID, def)
	if err != nil {
		return report.Definition{}, err
	}
	d := def.GetDeadlines()
	return report.Definition{
		Calendar: in.Calendar, Windows: in.Windows, PositionLevel: in.Position.Level, TimeScaled: def.GetTimeScale() > 1,
		Deadlines: workflows.Deadlines{ObjectionAnswerDays: int(d.GetObjectionAnswerWorkingDays()),
			AppointmentDueDays: int(d.GetAppointmentDueWorkingDays()), ReminderLeadDays: int(d.GetReminderLeadWorkingDays())},
	}, nil
}

// facts loads the report facts of the selection named by name's first segment.
func (s *ReportServer) facts(ctx context.Context, name string) (report.Facts, error) {
	sel, err := s.store.GetSelection(ctx, segment(name, 0))
	if err != nil {
		return report.Facts{}, storeError(ctx, s.logger, err)
	}
	def, err := s.definition(sel)
	if err != nil {
		s.logger.ErrorContext(ctx, "report: selection definition", "selection", sel.ID, "error", err)
		return report.Facts{}, localizedError(ctx, codes.Internal, msgReportDefinition)
	}
	f, err := report.Load(ctx, s.store, sel, def)
	if err != nil {
		return report.Facts{}, storeError(ctx, s.logger, err)
	}
	return f, nil
}

func (s *ReportServer) recap(ctx context.Context, name string) (report.Recap, error) {
	r, _, err := s.recapZone(ctx, name)
	return r, err
}

// recapZone is recap with the selection's time zone, which the PDF prints times in.
func (s *ReportServer) recapZone(ctx context.Context, name string) (report.Recap, string, error) {
	f, err := s.facts(ctx, name)
	if err != nil {
		return report.Recap{}, "", err
	}
	stage := stageFromSlug(segment(name, 1))
	r, err := report.ScoreRecap(f, stage, s.now())
	if errors.Is(err, report.ErrNotScoredStage) {
		return report.Recap{}, "", localizedError(ctx, codes.NotFound, msgNotFound)
	}
	return r, f.Selection.TimeZone, err
}

// GetScoreRecap returns the recap of one stage.
func (s *ReportServer) GetScoreRecap(ctx context.Context, req *seleksiv1.GetScoreRecapRequest) (*seleksiv1.GetScoreRecapResponse, error) {
	r, err := s.recap(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	out := &seleksiv1.ScoreRecap{Name: req.GetName(), Stage: protoStage(r.Stage), Revision: uint32(r.Revision), GenerateTime: ts(r.GenerateTime)}
	for _, c := range r.Components {
		out.Components = append(out.Components, protoComponent(c))
	}
	for _, m := range r.Members {
		out.Members = append(out.Members, &seleksiv1.CommitteeMember{MemberId: m.MemberID, DisplayName: m.DisplayName,
			Kind: seleksiv1.MemberKind(seleksiv1.MemberKind_value[m.Kind]), Role: seleksiv1.CommitteeRole(seleksiv1.CommitteeRole_value[m.Role]),
			PostLevel: seleksiv1.PostLevel(seleksiv1.PostLevel_value[m.PostLevel]), Affiliation: m.Affiliation})
	}
	cell := func(c report.Cell) *seleksiv1.ScoreCell {
		return &seleksiv1.ScoreCell{Recorded: c.Set, Score: float64(c.Score) / 100, Recused: c.Recused}
	}
	for _, row := range r.Rows {
		v := &seleksiv1.ScoreRecapRow{Application: applicationName(r.SelectionID, row.ApplicationID), CandidateName: row.Candidate,
			Category: seleksiv1.CompetencyCategory(seleksiv1.CompetencyCategory_value[row.Category]), StageScore: cell(row.Final),
			Outcome: protoOutcome(row.Outcome), Rank: uint32(row.Rank)}
		for _, c := range row.Scores {
			v.Scores = append(v.Scores, cell(c))
		}
		for _, c := range row.Members {
			v.MemberScores = append(v.MemberScores, cell(c))
		}
		out.Rows = append(out.Rows, v)
	}
	return &seleksiv1.GetScoreRecapResponse{ScoreRecap: out}, nil
}

// ExportScoreRecap returns the recap of one stage as an XLSX workbook, or as a PDF with the
// official documents' layout.
func (s *ReportServer) ExportScoreRecap(ctx context.Context, req *seleksiv1.ExportScoreRecapRequest) (*seleksiv1.ExportScoreRecapResponse, error) {
	r, zone, err := s.recapZone(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	if req.GetFormat() == "pdf" {
		// Not registered nor signed: the number only names the recap and the moment it
		// was made, and there is no verification page.
		loc := official.ZoneLocation(zone)
		pdf, err := official.Render(official.Meta{Issuer: r.Agency, IssuerUnit: official.DefaultIssuerUnit,
			Number: "REKAP/" + r.SelectionID + "/" + stageSlug(r.Stage) + "/" + r.GenerateTime.In(loc).Format("20060102-150405"),
			Issued: r.GenerateTime, Location: loc}, official.ScoreRecapContent(s.cat, r, zone))
		if err != nil {
			s.logger.ErrorContext(ctx, "report: render recap", "selection", r.SelectionID, "error", err)
			return nil, localizedError(ctx, codes.Internal, msgInternal)
		}
		return &seleksiv1.ExportScoreRecapResponse{ContentType: "application/pdf",
			FileName: "rekap-" + r.SelectionID + "-" + stageSlug(r.Stage) + ".pdf", Content: pdf}, nil
	}
	var buf bytes.Buffer
	if err := report.WriteXLSX(&buf, s.cat, r); err != nil {
		s.logger.ErrorContext(ctx, "report: write recap", "selection", r.SelectionID, "error", err)
		return nil, localizedError(ctx, codes.Internal, msgInternal)
	}
	return &seleksiv1.ExportScoreRecapResponse{
		ContentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		FileName:    "rekap-" + r.SelectionID + "-" + stageSlug(r.Stage) + ".xlsx",
		Content:     buf.Bytes(),
	}, nil
}

// GetMeritComplianceReport returns the merit-compliance report of a selection.
func (s *ReportServer) GetMeritComplianceReport(ctx context.Context, req *seleksiv1.GetMeritComplianceReportRequest) (*seleksiv1.GetMeritComplianceReportResponse, error) {
	f, err := s.facts(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	c := report.MeritCompliance(f, s.now())
	return &seleksiv1.GetMeritComplianceReportResponse{Report: ComplianceView(s.cat, c)}, nil
}

// ComplianceView is the API's form of a merit-compliance report, with every finding rendered
// in both languages.
func ComplianceView(cat *i18n.Catalog, c report.Compliance) *seleksiv1.MeritComplianceReport {
	out := &seleksiv1.MeritComplianceReport{Name: selectionName(c.SelectionID) + "/meritComplianceReport", PositionTitle: c.PositionTitle,
		Agency: c.Agency, Stage: protoStage(c.Stage), GenerateTime: ts(c.GenerateTime), AuditSeq: c.AuditSeq, AuditHead: c.AuditHead,
		NotMet: uint32(c.NotMet())}
	for _, it := range c.Items {
		v := &seleksiv1.ComplianceItem{Code: it.Code, Title: localized(cat, i18n.Msg{Code: "report." + it.Code + ".title"}),
			Status: seleksiv1.ComplianceStatus(seleksiv1.ComplianceStatus_value[string(it.Status)]), EvidenceSeqs: it.Evidence}
		for _, f := range it.Findings {
			v.Findings = append(v.Findings, &seleksiv1.ComplianceFinding{Code: f.Code, Params: f.Params, Text: localized(cat, f)})
		}
		out.Items = append(out.Items, v)
	}
	return out
}

// GetDashboard returns the secretariat's dashboard.
func (s *ReportServer) GetDashboard(ctx context.Context, req *seleksiv1.GetDashboardRequest) (*seleksiv1.GetDashboardResponse, error) {
	now := s.now()
	rows, err := report.Dashboard(ctx, s.store, s.definition, now)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) || store.IsUnavailable(err) || ctx.Err() != nil {
			return nil, storeError(ctx, s.logger, err)
		}
		s.logger.ErrorContext(ctx, "report: dashboard", "error", err)
		return nil, localizedError(ctx, codes.Internal, msgReportDefinition)
	}
	report.SortDashboard(rows, strings.TrimSpace(req.GetOrderBy()))
	out := &seleksiv1.GetDashboardResponse{GenerateTime: ts(now)}
	for _, r := range rows {
		v := &seleksiv1.DashboardRow{Selection: selectionName(r.SelectionID), PositionTitle: r.PositionTitle, Agency: r.Agency,
			Stage: protoStage(r.Stage), Phase: r.Phase, Window: r.Window, WindowEndTime: ts(r.Ends), WorkingDaysLeft: uint32(r.DaysLeft),
			Blocked: blockedView(ctx, s.cat, r.Blocked)}
		for _, o := range r.Overdue {
			item := &seleksiv1.OverdueItem{Kind: o.Kind, DueTime: ts(o.Due)}
			if ob := o.Objection; ob.ID != "" {
				revision := 1
				if _, rev, _, ok := workflows.ParseObjectionID(ob.ID); ok {
					revision = rev
				}
				item.Objection = objectionName(r.SelectionID, ob.ApplicationID, ob.Stage, revision)
			}
			v.Overdue = append(v.Overdue, item)
		}
		out.Rows = append(out.Rows, v)
	}
	return out, nil
}
