package audit

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/workflows"
	"github.com/bkpsdm/seleksi/workflows/calendar"
)

// TimelineEntry is one line of the account of a selection: who did what, when and why.
type TimelineEntry struct {
	// At is the selection time of the action.
	At time.Time `json:"at"`
	// Stage is the stage during which the action happened (before it took effect; for the
	// opening of a stage, the stage it opened), and StageName its name in the timeline's
	// language.
	Stage     workflows.Stage `json:"stage"`
	StageName string          `json:"stageName"`
	Actor     string          `json:"actor"`
	Role      string          `json:"role"`
	// RoleName is the role in the timeline's language.
	RoleName string `json:"roleName"`
	Action   string `json:"action"`
	// Summary says what happened, in the timeline's language.
	Summary string `json:"summary"`
	Reason  string `json:"reason,omitempty"`
	// Key, CommandSeq, Run and EventIDs locate the action in the history; AuditSeq in the
	// audit chain (0 when it has no audit event).
	Key        string  `json:"key,omitempty"`
	CommandSeq int64   `json:"commandSeq,omitempty"`
	AuditSeq   int64   `json:"auditSeq,omitempty"`
	Run        int     `json:"run,omitempty"`
	EventIDs   []int64 `json:"eventIds,omitempty"`
	// Source is "history" for what the workflow recorded and "audit" for events the store
	// recorded on its own (such as applications submitted during the announcement).
	Source string `json:"source"`
}

// Timeline builds the chronological account of a selection in lang ("id", the default, or
// "en"). Its backbone is the history's applied records, which are the authoritative list
// of what the workflow accepted and did; the audit chain adds the events the store recorded
// on its own and the audit seq of each record. Entries are ordered by time, the workflow's
// own order (command seq) breaking ties.
// Messages the workflow recorded as codes are rendered from cat.
func Timeline(facts HistoryFacts, events []AuditEvent, lang string, cat *i18n.Catalog) []TimelineEntry {
	en := lang == "en"
	bySeq := map[string]int64{}
	for _, e := range events {
		if fromWorkflow(e) {
			bySeq[e.UpdateID] = e.Seq
		}
	}
	updates := map[string]UpdateFact{}
	for _, u := range facts.Updates {
		updates[u.UpdateID] = u
	}
	var out []TimelineEntry
	stage := workflows.StageAnnouncement
	// Where the selection stood after each applied record, and at the end of each run, so
	// that the store's own events are filed under the stage they happened in.
	type mark struct {
		at    time.Time
		stage workflows.Stage
	}
	var marks []mark
	runEnd := map[int]workflows.Stage{}
	for _, r := range facts.Records {
		if !r.Applied() {
			continue
		}
		rec := r.Record
		u := updates[rec.Key]
		if rec.Kind == workflows.EvtStageOpened {
			// The opening of a stage is the first line of that stage's account.
			stage = rec.Stage
		}
		te := TimelineEntry{
			At: rec.At.UTC(), Stage: stage, StageName: stageText(stage, en),
			Actor: rec.Actor.Subject, Role: string(rec.Actor.Role), RoleName: roleText(string(rec.Actor.Role), en),
			Action: rec.Kind, Summary: summary(r, en, cat), Reason: rec.Reason,
			Key: rec.Key, CommandSeq: rec.Seq, AuditSeq: bySeq[rec.Key], Run: r.Run,
			EventIDs: nonZero(u.AcceptedEventID, r.ScheduledEventID), Source: "history",
		}
		out = append(out, te)
		if rec.Stage != "" {
			stage = rec.Stage
		}
		marks = append(marks, mark{rec.At, stage})
		runEnd[r.Run] = stage
	}
	runIndex := map[string]int{}
	for _, run := range facts.Runs {
		if run.RunID != "" {
			runIndex[run.RunID] = run.Index
		}
	}
	// stageOf is the stage of a store event: for an archived run, the stage the run ended
	// in; otherwise the stage in force at its time (the announcement before any record).
	stageOf := func(e AuditEvent) workflows.Stage {
		if e.Action == actionHistoryArchived {
			var p struct {
				RunID string `json:"runId"`
			}
			if json.Unmarshal(e.Payload, &p) == nil {
				if st, ok := runEnd[runIndex[p.RunID]]; ok {
					return st
				}
			}
		}
		st := workflows.StageAnnouncement
		for _, m := range marks {
			if m.at.After(e.WorkflowTime) {
				break
			}
			st = m.stage
		}
		return st
	}
	for _, e := range events {
		if fromWorkflow(e) {
			continue
		}
		st := stageOf(e)
		out = append(out, TimelineEntry{
			At: e.WorkflowTime.UTC(), Stage: st, StageName: stageText(st, en),
			Actor: e.ActorSubject, Role: e.Role, RoleName: roleText(e.Role, en), Action: e.Action,
			Summary: storeSummary(e, en), Reason: e.Reason, AuditSeq: e.Seq, Source: "audit",
		})
	}
	slices.SortStableFunc(out, func(a, b TimelineEntry) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return cmp.Compare(a.CommandSeq, b.CommandSeq)
	})
	return out
}

// RenderTimeline writes entries as text, one block per stage, with times in the agency's
// zone (zone as in HistoryFacts.Zone; UTC when unknown).
func RenderTimeline(w io.Writer, entries []TimelineEntry, zone, lang string) error {
	en := lang == "en"
	loc, zname := time.UTC, "UTC"
	if l, err := calendar.Zone(zone).Location(); err == nil {
		loc, zname = l, zone
	}
	var b strings.Builder
	var cur workflows.Stage = "-"
	for _, e := range entries {
		if e.Stage != cur {
			if cur != "-" {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "== %s ==\n", capitalize(e.StageName))
			cur = e.Stage
		}
		fmt.Fprintf(&b, "%s %s  %s (%s): %s", e.At.In(loc).Format("2006-01-02 15:04"), zname, e.Actor, e.RoleName, e.Summary)
		if e.Reason != "" {
			if en {
				fmt.Fprintf(&b, " Reason: %s", e.Reason)
			} else {
				fmt.Fprintf(&b, " Alasan: %s", e.Reason)
			}
		}
		var refs []string
		if e.CommandSeq != 0 {
			refs = append(refs, fmt.Sprintf("seq %d", e.CommandSeq))
		}
		if e.AuditSeq != 0 {
			refs = append(refs, fmt.Sprintf("audit %d", e.AuditSeq))
		}
		if len(e.EventIDs) > 0 {
			refs = append(refs, fmt.Sprintf("run %d event %s", e.Run, joinInts(e.EventIDs)))
		}
		if len(refs) > 0 {
			fmt.Fprintf(&b, " [%s]", strings.Join(refs, ", "))
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func stageText(s workflows.Stage, en bool) string {
	names := map[workflows.Stage][2]string{
		workflows.StageScheduled:               {"pengumuman terjadwal", "the scheduled announcement"},
		workflows.StageAnnouncement:            {"pengumuman", "the announcement"},
		workflows.StageAdministrativeScreening: {"seleksi administrasi", "administrative screening"},
		workflows.StageCompetencyTest:          {"uji kompetensi", "the competency test"},
		workflows.StageInterview:               {"wawancara", "the interview"},
		workflows.StageCommitteeDecision:       {"keputusan panitia seleksi", "the committee decision"},
		workflows.StageClosed:                  {"selesai", "closed"},
		workflows.StageCancelled:               {"dibatalkan", "cancelled"},
	}
	n, ok := names[s]
	if !ok {
		return string(s)
	}
	if en {
		return n[1]
	}
	return n[0]
}

func roleText(r string, en bool) string {
	names := map[string][2]string{
		string(workflows.RoleAdmin):     {"sekretariat", "secretariat"},
		string(workflows.RoleCommittee): {"panitia seleksi", "committee"},
		string(workflows.RoleCandidate): {"pelamar", "candidate"},
		string(workflows.RoleAuditor):   {"auditor", "auditor"},
		string(workflows.RoleSystem):    {"sistem", "system"},
	}
	n, ok := names[r]
	if !ok {
		return r
	}
	if en {
		return n[1]
	}
	return n[0]
}

// actionHistoryArchived is the store's action when it archives a closed run's history
// (store.ActionHistoryArchived; this package reads bundles without the store).
const actionHistoryArchived = "HistoryArchived"

// storeSummary says what an event the store recorded on its own did. The store's actions
// are named here as far as they are known; others are shown by name and target.
func storeSummary(e AuditEvent, en bool) string {
	last := e.Target[strings.LastIndex(e.Target, "/")+1:]
	switch e.Action {
	case "CreateSelection":
		if en {
			return "Created selection " + last + "."
		}
		return "Membuat seleksi " + last + "."
	case "SubmitApplication":
		if en {
			return "Submitted application " + last + "."
		}
		return "Mengajukan lamaran " + last + "."
	case "WithdrawBeforeClose":
		if en {
			return "Withdrew application " + last + " while the announcement was open."
		}
		return "Menarik lamaran " + last + " selama pengumuman masih dibuka."
	case actionDocumentReplaced:
		var p struct {
			Kind          string `json:"kind"`
			OldDocumentID string `json:"oldDocumentId"`
			NewDocumentID string `json:"newDocumentId"`
		}
		_ = json.Unmarshal(e.Payload, &p)
		if en {
			return fmt.Sprintf("Replaced document %s (%s) of application %s with %s.", p.OldDocumentID, p.Kind, last, p.NewDocumentID)
		}
		return fmt.Sprintf("Mengganti dokumen %s (%s) lamaran %s dengan %s.", p.OldDocumentID, p.Kind, last, p.NewDocumentID)
	case "DocumentUploaded":
		if en {
			return "Uploaded document " + last + "."
		}
		return "Mengunggah dokumen " + last + "."
	case "DocumentViewed":
		if en {
			return "Read document " + last + "."
		}
		return "Membaca dokumen " + last + "."
	case "DocumentErased":
		if en {
			return "Erased document " + last + " after its retention."
		}
		return "Menghapus dokumen " + last + " setelah masa retensinya."
	case actionHistoryArchived:
		if en {
			return "Archived the workflow history of run " + last + "."
		}
		return "Mengarsipkan riwayat eksekusi alur kerja " + last + "."
	}
	return fmt.Sprintf("%s: %s", e.Action, e.Target)
}

// summary says what a record did. The workflow's own message is used when the record has
// one (it is what candidates were notified with); otherwise the summary is built from the
// command's arguments.
func summary(r RecordFact, en bool, cat *i18n.Catalog) string {
	rec := r.Record
	pick := func(id, eng string) string {
		if en {
			return eng
		}
		return id
	}
	if rec.Message != nil && (rec.Message.EN != "" || rec.Message.ID != "") {
		return pick(rec.Message.ID, rec.Message.EN)
	}
	if rec.Message != nil && cat.Knows(rec.Message.Code, i18n.ID) {
		return pick(cat.Render(CatalogMsg(*rec.Message), i18n.ID), cat.Render(CatalogMsg(*rec.Message), i18n.EN))
	}
	switch rec.Kind {
	case workflows.EvtChecklistsProposed:
		n := len(rec.Checklists)
		return pick(fmt.Sprintf("Mengusulkan daftar periksa persyaratan %d lamaran dari data pendaftaran.", n),
			fmt.Sprintf("Proposed the requirement checklists of %d application(s) from the application data.", n))
	case workflows.CmdRecordResults:
		a := orZero(rec.Args.RecordResults)
		st := stageText(a.Stage, en)
		if a.Correct {
			return pick(fmt.Sprintf("Mengoreksi hasil %d lamaran pada tahap %s.", len(a.Results), st),
				fmt.Sprintf("Corrected the results of %d application(s) in %s.", len(a.Results), st))
		}
		return pick(fmt.Sprintf("Mencatat hasil %d lamaran pada tahap %s.", len(a.Results), st),
			fmt.Sprintf("Recorded the results of %d application(s) in %s.", len(a.Results), st))
	case workflows.CmdDeclareConflict:
		a := orZero(rec.Args.DeclareConflict)
		ids := strings.Join(a.ApplicationIDs, ", ")
		return pick("Menyatakan konflik kepentingan dengan lamaran "+ids+".", "Declared a conflict of interest with application(s) "+ids+".")
	case workflows.CmdRecordAbsence:
		a := orZero(rec.Args.RecordAbsence)
		st := stageText(a.Stage, en)
		return pick(fmt.Sprintf("Mencatat ketidakhadiran lamaran %s pada tahap %s; lamaran gugur.", a.ApplicationID, st),
			fmt.Sprintf("Recorded the absence of application %s from %s; the application is eliminated.", a.ApplicationID, st))
	case workflows.CmdWithdraw:
		a := orZero(rec.Args.Withdraw)
		return pick("Menarik lamaran "+a.ApplicationID+".", "Withdrew application "+a.ApplicationID+".")
	case workflows.CmdFileObjection:
		a := orZero(rec.Args.FileObjection)
		st := stageText(a.Stage, en)
		return pick(fmt.Sprintf("Mengajukan sanggah atas hasil %s untuk lamaran %s.", st, a.ApplicationID),
			fmt.Sprintf("Filed an objection to the result of %s for application %s.", st, a.ApplicationID))
	case workflows.CmdAnswerObjection:
		a := orZero(rec.Args.AnswerObjection)
		// The answer is the record's reason, which the entry shows on its own.
		if a.Accept {
			return pick(fmt.Sprintf("Menerima sanggah %s.", a.ObjectionID), fmt.Sprintf("Accepted objection %s.", a.ObjectionID))
		}
		return pick(fmt.Sprintf("Menolak sanggah %s.", a.ObjectionID), fmt.Sprintf("Rejected objection %s.", a.ObjectionID))
	case workflows.CmdAdvance:
		a := orZero(rec.Args.Advance)
		st := stageText(a.Stage, en)
		return pick("Menutup tahap "+st+" dan mengumumkan hasilnya.", "Closed "+st+" and published its result.")
	case workflows.CmdDecide:
		a := orZero(rec.Args.Decide)
		var ids []string
		for i, s := range a.Shortlist {
			ids = append(ids, fmt.Sprintf("%d. %s", i+1, s.ApplicationID))
		}
		return pick("Menetapkan usulan nama: "+strings.Join(ids, ", ")+".", "Decided the shortlist: "+strings.Join(ids, ", ")+".")
	case workflows.CmdAppoint:
		a := orZero(rec.Args.Appoint)
		if a.Justification != "" {
			return pick(fmt.Sprintf("Mencatat pilihan Pejabat Pembina Kepegawaian (keputusan %s): lamaran %s. Justifikasi: %s", a.PPKDecreeRef, a.ApplicationID, a.Justification),
				fmt.Sprintf("Recorded the appointing official's choice (decree %s): application %s. Justification: %s", a.PPKDecreeRef, a.ApplicationID, a.Justification))
		}
		return pick(fmt.Sprintf("Mencatat pilihan Pejabat Pembina Kepegawaian (keputusan %s): lamaran %s.", a.PPKDecreeRef, a.ApplicationID),
			fmt.Sprintf("Recorded the appointing official's choice (decree %s): application %s.", a.PPKDecreeRef, a.ApplicationID))
	case workflows.CmdCancel:
		return pick("Membatalkan seleksi.", "Cancelled the selection.")
	case workflows.CmdSupplyHolidays:
		return pick("Melengkapi daftar hari libur.", "Supplied holiday lists.")
	case workflows.CmdResume:
		return pick("Meminta seleksi yang terhenti dilanjutkan.", "Asked the blocked selection to resume.")
	}
	return pick(rec.Kind+".", rec.Kind+".")
}

// CatalogMsg is a workflow message in the form the catalog renders.
func CatalogMsg(m workflows.Message) i18n.Msg {
	out := i18n.Msg{Code: m.Code, EN: m.EN, ID: m.ID}
	if len(m.Params) > 0 {
		out.Params = m.Params.Map()
	}
	if m.Detail != nil {
		d := CatalogMsg(*m.Detail)
		out.Detail = &d
	}
	return out
}

// orZero is *p, or the zero value when the record carries no such arguments.
func orZero[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
