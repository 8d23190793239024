package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"bytes"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// TestReportServer: the handlers decode the stored definition (zone, windows, deadlines)
// as the selection was started from it: an objection filed on Wednesday 1 April 2026 and
// answered on Wednesday 8 April is late under a three-working-day deadline (Good Friday not
// counted) and on the dashboard an unanswered one is overdue; the recap exports as XLSX.
func TestReportServer(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "seleksi.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	cfg := []byte(`{"timeZone":"TIME_ZONE_WIB","announcementWorkingDays":5,"deadlines":{"objectionAnswerWorkingDays":3}}`)
	for _, id := range []string{"sel-late", "sel-open"} {
		if _, err := st.CreateSelection(ctx, store.NewSelection{ID: id, RequestID: "r-" + id, WorkflowID: "selection-" + id,
			PositionTitle: "Kepala Dinas", Agency: "Kota Contoh", TimeZone: "TIME_ZONE_WIB", Config: cfg,
			Actor: store.Actor{Subject: "admin", Role: "ROLE_ADMIN"}, Now: at("2026-03-02T01:00:00Z")}); err != nil {
			t.Fatal(err)
		}
		o := store.Objection{ID: "INTERVIEW:app-1", ApplicationID: "app-1", Stage: "STAGE_INTERVIEW", Candidate: "c",
			Reason: "r", State: "OBJECTION_STATE_PENDING", FileTime: at("2026-04-01T03:00:00Z")}
		cmds := []store.Command{{Kind: workflows.CmdAdvance, At: at("2026-03-31T03:00:00Z"), Stage: "STAGE_INTERVIEW", Phase: "OBJECTIONS",
			Result: &store.StageResult{Stage: "STAGE_INTERVIEW", Revision: 1, PublishedAt: at("2026-03-31T03:00:00Z"), ObjectionDeadline: at("2026-04-03T17:00:00Z")}},
			{Kind: workflows.CmdFileObjection, At: o.FileTime, Stage: "STAGE_INTERVIEW", Phase: "OBJECTIONS", Objection: &o}}
		if id == "sel-late" {
			a := o
			a.State, a.Answer, a.AnsweredBy, a.AnswerTime = "OBJECTION_STATE_REJECTED", "tidak", "chair", at("2026-04-08T02:00:00Z")
			cmds = append(cmds, store.Command{Kind: workflows.CmdAnswerObjection, At: a.AnswerTime, Stage: "STAGE_INTERVIEW", Phase: "OBJECTIONS", Objection: &a})
		}
		for i, c := range cmds {
			c.WorkflowID, c.SelectionID, c.Key, c.Seq = "selection-"+id, id, "k"+string(rune('a'+i)), int64(i+1)
			c.Actor = store.Actor{Subject: "chair", Role: "ROLE_COMMITTEE"}
			if _, err := st.ApplyCommand(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
	}
	srv := NewReportServer(st, testCatalog(t), slog.New(slog.DiscardHandler), func() time.Time { return at("2026-04-09T03:00:00Z") })

	rep, err := srv.GetMeritComplianceReport(ctx, &seleksiv1.GetMeritComplianceReportRequest{Name: "selections/sel-late/meritComplianceReport"})
	if err != nil {
		t.Fatal(err)
	}
	var late *seleksiv1.ComplianceItem
	for _, it := range rep.GetReport().GetItems() {
		if it.GetCode() == "objections_on_time" {
			late = it
		}
	}
	if late == nil || late.GetStatus() != seleksiv1.ComplianceStatus_COMPLIANCE_STATUS_NOT_MET || len(late.GetFindings()) != 1 ||
		late.GetFindings()[0].GetCode() != "report.objections_on_time.late" || late.GetFindings()[0].GetText().GetId() == "" {
		b, _ := json.Marshal(late)
		t.Fatalf("objections item = %s", b)
	}

	dash, err := srv.GetDashboard(ctx, &seleksiv1.GetDashboardRequest{OrderBy: "overdue"})
	if err != nil {
		t.Fatal(err)
	}
	rows := dash.GetRows()
	if len(rows) != 2 || rows[0].GetSelection() != "selections/sel-open" || len(rows[0].GetOverdue()) != 1 ||
		rows[0].GetOverdue()[0].GetObjection() != "selections/sel-open/applications/app-1/objections/interview" || len(rows[1].GetOverdue()) != 0 {
		t.Fatalf("dashboard = %v", rows)
	}

	x, err := srv.ExportScoreRecap(ctx, &seleksiv1.ExportScoreRecapRequest{Name: "selections/sel-late/scoreRecaps/interview"})
	if err != nil {
		t.Fatal(err)
	}
	book, err := excelize.OpenReader(bytes.NewReader(x.GetContent()))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = book.Close() }()
	if v, _ := book.GetCellValue("Rekap", "B2"); v != "sel-late" || x.GetFileName() != "rekap-sel-late-interview.xlsx" {
		t.Errorf("workbook B2 = %q, file %q", v, x.GetFileName())
	}

	// The same recap as a PDF with the official layout, which says it is not signed.
	p, err := srv.ExportScoreRecap(ctx, &seleksiv1.ExportScoreRecapRequest{Name: "selections/sel-late/scoreRecaps/interview", Format: "pdf"})
	if err != nil {
		t.Fatal(err)
	}
	if p.GetContentType() != "application/pdf" || p.GetFileName() != "rekap-sel-late-interview.pdf" {
		t.Errorf("pdf content type %q, file %q", p.GetContentType(), p.GetFileName())
	}
	in := filepath.Join(t.TempDir(), "recap.pdf")
	if err := os.WriteFile(in, p.GetContent(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", in, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	text := strings.Join(strings.Fields(string(out)), " ")
	for _, want := range []string{"KOTA CONTOH", "Rekapitulasi Nilai Tahap Wawancara akhir", "Score Recap of the Final interview", "sel-late",
		"REKAP/sel-late/interview/20260409-100000", "9 April 2026", "WIB", "bukan dokumen resmi yang terdaftar", "not a registered official document"} {
		if !strings.Contains(text, want) {
			t.Errorf("the recap PDF lacks %q:\n%s", want, text)
		}
	}
}
