package web

import (
	"context"
	"net/http"
	"slices"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
)

// complianceEventPages bounds how many pages of the audit trail the merit-compliance page
// reads to show the events its items cite; a selection's trail rarely needs more than one.
const complianceEventPages = 10

// complianceData is a selection's merit-compliance report as BKN's supervisors read it:
// each rule, its status, the findings, and the audit events that prove them.
type complianceData struct {
	ID        string
	Selection *seleksiv1.Selection
	Report    *seleksiv1.MeritComplianceReport
	// Back is the page the report was opened from (the auditor's trail or the secretariat's
	// selection page).
	Back string
	// Events are the cited audit events by sequence number.
	Events map[uint64]*seleksiv1.AuditEvent
}

// Event is the cited audit event with sequence number n, or nil when it was not read.
func (d complianceData) Event(n int64) *seleksiv1.AuditEvent { return d.Events[uint64(n)] }

// meritCompliance shows the merit-compliance report of a selection, read through
// ReportService and AuditService with the caller's identity.
func (s *Server) meritCompliance(back string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("sel")
		ctx, sel, ok := s.loadSelection(w, r, id)
		if !ok {
			return
		}
		resp, err := s.api.reports.GetMeritComplianceReport(ctx, &seleksiv1.GetMeritComplianceReportRequest{
			Name: "selections/" + id + "/meritComplianceReport"})
		if err != nil {
			s.apiFailed(w, r, err)
			return
		}
		rep := resp.GetReport()
		events, err := s.citedEvents(ctx, id, rep)
		if err != nil {
			s.apiFailed(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "auditor/compliance", complianceData{ID: id, Selection: sel, Report: rep,
			Back: back + id, Events: events})
	}
}

// citedEvents reads the audit events the report's items cite.
func (s *Server) citedEvents(ctx context.Context, id string, rep *seleksiv1.MeritComplianceReport) (map[uint64]*seleksiv1.AuditEvent, error) {
	want := map[uint64]bool{}
	var last uint64
	for _, it := range rep.GetItems() {
		for _, n := range it.GetEvidenceSeqs() {
			want[uint64(n)] = true
			last = max(last, uint64(n))
		}
	}
	out := make(map[uint64]*seleksiv1.AuditEvent, len(want))
	token := ""
	for range complianceEventPages {
		if len(want) == 0 {
			break
		}
		page, err := s.api.audit.ListAuditEvents(ctx, &seleksiv1.ListAuditEventsRequest{Parent: "selections/" + id, PageSize: 1000, PageToken: token})
		if status.Code(err) == codes.PermissionDenied {
			// The audit trail is the auditors' (the secretariat sees the report, whose
			// evidence numbers the auditors look up).
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		evs := page.GetAuditEvents()
		for _, e := range evs {
			if want[e.GetSequence()] {
				out[e.GetSequence()] = e
			}
		}
		token = page.GetNextPageToken()
		if token == "" || len(evs) == 0 || slices.ContainsFunc(evs, func(e *seleksiv1.AuditEvent) bool { return e.GetSequence() >= last }) {
			break
		}
	}
	return out, nil
}
