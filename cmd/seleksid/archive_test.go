package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// TestArchiveOutlivesRetention runs a short selection on the real stack (created, then
// cancelled by the secretariat, which closes its workflow), archives its run, and deletes
// the run from Temporal as the namespace retention would. The auditor still exports the
// selection and verifies it, replay included, with no findings: from the archive alone.
func TestArchiveOutlivesRetention(t *testing.T) {
	for _, db := range stackDatabases() {
		t.Run(db.name, func(t *testing.T) {
			// Temporal takes about half a minute to delete a run; the two databases wait
			// for it side by side.
			t.Parallel()
			a, e := startStack(t, db, "arsip-")
			ctx := context.Background()
			temporal := a.TemporalClient()
			wfID := workflows.WorkflowID(e.id)

			// --- A selection created and cancelled at once: its workflow closes. ---
			e.admin = e.tok.mint(auth.RoleAdmin, "admin-bkpsdm")
			createPath := "/v1/selections?requestId=" + e.reqID("create") + "&selectionId=" + e.id
			for began := time.Now(); ; time.Sleep(250 * time.Millisecond) {
				r := e.do(http.MethodPost, createPath, e.admin, selectionBody([]string{"ketua", "sekretaris", "anggota3", "anggota4", "anggota5"}))
				if r.code == http.StatusOK {
					break
				}
				// A freshly started seleksid may refuse for a moment (see the end-to-end test).
				if r.code != http.StatusInternalServerError || time.Since(began) > 30*time.Second {
					t.Fatalf("%s", r)
				}
			}
			for deadline := time.Now().Add(10 * time.Second); e.getSelection(e.id).StageCloseTime == ""; time.Sleep(50 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the announcement window never opened")
				}
			}
			e.must(http.MethodPost, e.sel()+":cancel", e.admin,
				map[string]any{"requestId": e.reqID("cancel"), "reason": "Formasi dihapus oleh keputusan PPK"}, nil)
			var runID string
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
				d, err := temporal.DescribeWorkflowExecution(ctx, wfID, "")
				if err != nil {
					t.Fatalf("describe %s: %v", wfID, err)
				}
				info := d.GetWorkflowExecutionInfo()
				if info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
					runID = info.GetExecution().GetRunId()
					t.Logf("workflow %s run %s closed: %s", wfID, runID, info.GetStatus())
					// Operators find selections by stage and agency in the Web UI.
					var stage, agency string
					fields := info.GetSearchAttributes().GetIndexedFields()
					dc := converter.GetDefaultDataConverter()
					if err := dc.FromPayload(fields[workflows.SearchAttributeStage], &stage); err != nil || stage != string(workflows.StageCancelled) {
						t.Errorf("search attribute %s = %q (%v), want %s", workflows.SearchAttributeStage, stage, err, workflows.StageCancelled)
					}
					if err := dc.FromPayload(fields[workflows.SearchAttributeAgency], &agency); err != nil || agency == "" {
						t.Errorf("search attribute %s = %q (%v)", workflows.SearchAttributeAgency, agency, err)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the cancelled selection's workflow is still running")
				}
			}

			// --- Archive it. Visibility lists a closed run a moment after it closes, and the
			// background archiver may get there first; either way the run's HistoryArchived
			// event appears in the audit chain. ---
			auditor := e.tok.mint(auth.RoleAuditor, "inspektorat-1")
			target := store.ArchivedRunTarget(e.id, runID)
			began := time.Now()
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
				if _, err := a.ArchiveNow(ctx); err != nil {
					t.Logf("archive pass: %v", err)
				}
				if e.archivedEvent(auditor, target) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("run %s was never archived", runID)
				}
			}
			t.Logf("run %s archived after %s", runID, time.Since(began).Round(time.Millisecond))
			began = time.Now()

			// --- Retention passes: Temporal deletes the run. ---
			if _, err := temporal.WorkflowService().DeleteWorkflowExecution(ctx, &workflowservice.DeleteWorkflowExecutionRequest{
				Namespace:         a.TemporalNamespace(),
				WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: wfID, RunId: runID},
			}); err != nil {
				t.Fatalf("delete the workflow execution: %v", err)
			}
			for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
				it := temporal.GetWorkflowHistory(ctx, wfID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
				var err error
				for it.HasNext() && err == nil {
					_, err = it.Next()
				}
				if errors.As(err, new(*serviceerror.NotFound)) {
					t.Logf("Temporal deleted the run's history after %s", time.Since(began).Round(time.Millisecond))
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("Temporal still has the history of %s after its deletion (last error %v)", runID, err)
				}
			}

			// --- The auditor exports and verifies it all the same. ---
			b := e.exportBundle(e.id, auditor)
			if fs := b.CheckParts(); len(b.Histories) != 1 || len(fs) > 0 {
				t.Errorf("the bundle holds %d histories (want the one archived run), findings %v", len(b.Histories), fs)
			}
			for _, h := range b.Histories {
				if !strings.Contains(string(h.JSON), "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED") {
					t.Errorf("run %s is not a history", h.RunID)
				}
			}
			for _, replay := range []bool{true, false} {
				var rep verificationJSON
				e.must(http.MethodPost, e.sel()+":verify", auditor, map[string]any{"replay": replay}, &rep)
				if !rep.Report.OK || len(rep.Report.Findings) > 0 || rep.Report.Replayed != replay {
					t.Errorf("verification from the archive (replay %v): ok %v replayed %v, %d findings:", replay, rep.Report.OK, rep.Report.Replayed, len(rep.Report.Findings))
					for _, f := range rep.Report.Findings {
						t.Logf("  %s seqs %v events %v: %s", f.Kind, f.EventSequences, f.HistoryEventIDs, f.Message)
					}
				}
			}
		})
	}
}

// archivedEvent reports whether the selection's audit chain holds the HistoryArchived event
// of the run with target.
func (e *e2e) archivedEvent(auditor, target string) bool {
	e.t.Helper()
	var events struct {
		AuditEvents []struct {
			Action string `json:"action"`
			Target string `json:"target"`
		} `json:"auditEvents"`
	}
	r := e.must(http.MethodGet, e.sel()+"/auditEvents?pageSize=1000", auditor, nil, nil)
	if err := json.Unmarshal(r.body, &events); err != nil {
		e.t.Fatalf("%s: %v", r, err)
	}
	return slices.ContainsFunc(events.AuditEvents, func(ev struct {
		Action string `json:"action"`
		Target string `json:"target"`
	}) bool {
		return ev.Action == store.ActionHistoryArchived && ev.Target == target
	})
}
