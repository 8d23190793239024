package web

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
)

// Score entry by CSV upload: a score sheet (one line per application and component) is
// read, checked against the selection's applications and the current stage, and shown as a
// preview of what will change with the errors by line number. Nothing is sent until the
// member confirms; the sheet then goes to RecordResults in batches of sheetBatch
// applications, each with its own request_id derived from the preview's, so a retried
// batch is applied once.

// sheetBatch is how many applications one RecordResults call carries: well below the API's
// 256 KiB per call even with long reasons.
const sheetBatch = 100

// maxSheetBytes bounds an uploaded score sheet; maxSheetRows its lines.
const (
	maxSheetBytes = 2 << 20
	maxSheetRows  = 20000
)

// sheetField is what one line of the sheet sets: a score component, or the competency
// test's category or its informative managerial and socio-cultural scores.
type sheetField struct {
	component seleksiv1.ScoreComponent
	kind      string // "score", "category", "managerial", "socio_cultural"
}

// sheetFields are the names a sheet may give the component column (Indonesian and English,
// any case, spaces or hyphens for underscores; the API's enum names too).
var sheetFields = map[string]sheetField{
	"tes_tertulis": {seleksiv1.ScoreComponent_SCORE_COMPONENT_WRITTEN_TEST, "score"}, "written_test": {seleksiv1.ScoreComponent_SCORE_COMPONENT_WRITTEN_TEST, "score"},
	"uji_kompetensi": {seleksiv1.ScoreComponent_SCORE_COMPONENT_COMPETENCY_TEST, "score"}, "kompetensi": {seleksiv1.ScoreComponent_SCORE_COMPONENT_COMPETENCY_TEST, "score"},
	"competency_test": {seleksiv1.ScoreComponent_SCORE_COMPONENT_COMPETENCY_TEST, "score"},
	"makalah":         {seleksiv1.ScoreComponent_SCORE_COMPONENT_PAPER, "score"}, "paper": {seleksiv1.ScoreComponent_SCORE_COMPONENT_PAPER, "score"},
	"wawancara": {seleksiv1.ScoreComponent_SCORE_COMPONENT_INTERVIEW, "score"}, "interview": {seleksiv1.ScoreComponent_SCORE_COMPONENT_INTERVIEW, "score"},
	"rekam_jejak": {seleksiv1.ScoreComponent_SCORE_COMPONENT_TRACK_RECORD, "score"}, "track_record": {seleksiv1.ScoreComponent_SCORE_COMPONENT_TRACK_RECORD, "score"},
	"kategori": {kind: "category"}, "category": {kind: "category"},
	"manajerial": {kind: "managerial"}, "managerial": {kind: "managerial"},
	"sosial_kultural": {kind: "socio_cultural"}, "sosiokultural": {kind: "socio_cultural"}, "socio_cultural": {kind: "socio_cultural"},
}

// sheetCategories are the names a sheet may give the assessment center's category.
var sheetCategories = map[string]seleksiv1.CompetencyCategory{
	"ms": seleksiv1.CompetencyCategory_COMPETENCY_CATEGORY_MEETS, "meets": seleksiv1.CompetencyCategory_COMPETENCY_CATEGORY_MEETS,
	"memenuhi_syarat": seleksiv1.CompetencyCategory_COMPETENCY_CATEGORY_MEETS,
	"mms":             seleksiv1.CompetencyCategory_COMPETENCY_CATEGORY_STILL_MEETS, "still_meets": seleksiv1.CompetencyCategory_COMPETENCY_CATEGORY_STILL_MEETS,
	"masih_memenuhi_syarat": seleksiv1.CompetencyCategory_COMPETENCY_CATEGORY_STILL_MEETS,
	"kms":                   seleksiv1.CompetencyCategory_COMPETENCY_CATEGORY_DOES_NOT_MEET, "bms": seleksiv1.CompetencyCategory_COMPETENCY_CATEGORY_DOES_NOT_MEET,
	"does_not_meet": seleksiv1.CompetencyCategory_COMPETENCY_CATEGORY_DOES_NOT_MEET, "kurang_memenuhi_syarat": seleksiv1.CompetencyCategory_COMPETENCY_CATEGORY_DOES_NOT_MEET,
	"belum_memenuhi_syarat": seleksiv1.CompetencyCategory_COMPETENCY_CATEGORY_DOES_NOT_MEET,
}

// sheetHeaders name the columns.
var sheetHeaders = map[string]string{
	"lamaran": "app", "id_lamaran": "app", "application": "app", "application_id": "app", "aplikasi": "app",
	"peserta": "app", "participant": "app", "nip": "app",
	"komponen": "field", "component": "field",
	"nilai": "value", "score": "value", "value": "value",
}

var spaces = regexp.MustCompile(`[\s-]+`)

// sheetKey normalises a name from a sheet: lower case, underscores for spaces and hyphens,
// the enum prefixes dropped.
func sheetKey(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = spaces.ReplaceAllString(s, "_")
	s = strings.TrimPrefix(s, "score_component_")
	return strings.TrimPrefix(s, "competency_category_")
}

// sheetChange is one line of the preview: what the line changes.
type sheetChange struct {
	Line      int
	App       string // application ID
	Candidate string
	// Field is the message code naming what changes; Current and New its values as shown.
	Field        string
	Current, New string
}

// sheetError is one line's error, already in the page's language.
type sheetError struct {
	Line    int
	Message string
}

// scoreSheet is a parsed sheet: the changes to preview, the errors, and the results to
// send, one per application in the order they first appear.
type scoreSheet struct {
	Changes []sheetChange
	Errors  []sheetError
	Results []*seleksiv1.ApplicationResult
}

// Batches splits the results into the calls that send them.
func (sh scoreSheet) Batches() [][]*seleksiv1.ApplicationResult {
	var out [][]*seleksiv1.ApplicationResult
	for i := 0; i < len(sh.Results); i += sheetBatch {
		out = append(out, sh.Results[i:min(i+sheetBatch, len(sh.Results))])
	}
	return out
}

// parseScoreSheet reads a score sheet for stage against the selection's applications. t
// renders the texts of errors and values in the page's language.
func parseScoreSheet(data []byte, sel *seleksiv1.Selection, apps []*seleksiv1.Application, t func(string, ...any) string) scoreSheet {
	var sh scoreSheet
	fail := func(line int, code string, kv ...any) {
		sh.Errors = append(sh.Errors, sheetError{Line: line, Message: t(code, kv...)})
	}
	stage := sel.GetStage()
	if !utf8.Valid(data) {
		fail(1, "committee.sheet.not_utf8")
		return sh
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a byte-order mark from spreadsheets
	first, _, _ := bytes.Cut(data, []byte("\n"))
	rd := csv.NewReader(bytes.NewReader(data))
	if bytes.Count(first, []byte(";")) > bytes.Count(first, []byte(",")) {
		rd.Comma = ';' // spreadsheets in Indonesian locales write semicolons
	}
	rd.FieldsPerRecord = -1
	rd.ReuseRecord = true
	header, err := rd.Read()
	if err != nil {
		fail(1, "committee.sheet.no_header")
		return sh
	}
	cols := map[string]int{}
	for i, h := range header {
		if c, ok := sheetHeaders[sheetKey(h)]; ok {
			if _, dup := cols[c]; !dup {
				cols[c] = i
			}
		}
	}
	if len(cols) != 3 {
		fail(1, "committee.sheet.no_header")
		return sh
	}
	allowed := map[seleksiv1.ScoreComponent]bool{}
	for _, c := range stageComponentsAll(stage) {
		allowed[c] = true
	}
	byKey := map[string]*seleksiv1.Application{}
	for _, a := range apps {
		byKey[a.GetName()] = a
		byKey[lastSegment(a.GetName())] = a
		if nip := a.GetCandidate().GetNip(); nip != "" {
			byKey[nip] = a
		}
	}
	results := map[string]*seleksiv1.ApplicationResult{}
	firstLine := map[string]int{}
	seen := map[string]int{}
	for line := 2; ; line++ {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if line > maxSheetRows+1 {
			fail(line, "committee.sheet.too_many_rows", "max", maxSheetRows)
			break
		}
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			fail(perr.Line, "committee.sheet.unreadable")
			if perr.Err == csv.ErrQuote || perr.Err == csv.ErrBareQuote {
				break // the rest of the file cannot be read reliably
			}
			continue
		}
		if err != nil {
			fail(line, "committee.sheet.unreadable")
			break
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // an empty line
		}
		cell := func(c string) string {
			if i := cols[c]; i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		key, fieldName, value := cell("app"), cell("field"), cell("value")
		app := byKey[key]
		if app == nil {
			fail(line, "committee.sheet.unknown_application", "value", key)
			continue
		}
		if !participates(stage, app) {
			fail(line, "committee.sheet.not_in_stage", "name", app.GetCandidate().GetFullName())
			continue
		}
		f, ok := sheetFields[sheetKey(fieldName)]
		if !ok || (f.kind == "score" && !allowed[f.component]) || (f.kind != "score" && stage != seleksiv1.Stage_STAGE_COMPETENCY_TEST) {
			fail(line, "committee.sheet.unknown_component", "value", fieldName)
			continue
		}
		dupKey := app.GetName() + "|" + f.kind + "|" + f.component.String()
		if prev, dup := seen[dupKey]; dup {
			fail(line, "committee.sheet.duplicate", "line", prev)
			continue
		}
		res := results[app.GetName()]
		if res == nil {
			res = &seleksiv1.ApplicationResult{Application: app.GetName()}
			if stage == seleksiv1.Stage_STAGE_COMPETENCY_TEST || stage == seleksiv1.Stage_STAGE_INTERVIEW {
				res.Outcome = seleksiv1.Outcome_OUTCOME_NONE
			}
		}
		change := sheetChange{Line: line, App: lastSegment(app.GetName()), Candidate: app.GetCandidate().GetFullName()}
		prior := priorResult(app, stage)
		switch f.kind {
		case "category":
			cat, ok := sheetCategories[sheetKey(value)]
			if !ok {
				fail(line, "committee.sheet.bad_category", "value", value)
				continue
			}
			res.CompetencyCategory = cat
			change.Field = "committee.field.category"
			change.New = t("committee.category." + cat.String())
			if c := prior.GetCompetencyCategory(); c != seleksiv1.CompetencyCategory_COMPETENCY_CATEGORY_UNSPECIFIED {
				change.Current = t("committee.category." + c.String())
			}
		default:
			v, ok := parseScore(value)
			if !ok {
				fail(line, "committee.sheet.bad_score", "value", value)
				continue
			}
			change.New = formatScore(v)
			switch f.kind {
			case "managerial":
				res.ManagerialScore, change.Field = v, "committee.field.managerial"
			case "socio_cultural":
				res.SocioCulturalScore, change.Field = v, "committee.field.socio_cultural"
			default:
				res.Scores = append(res.Scores, &seleksiv1.ComponentScore{Component: f.component, Score: v})
				change.Field = "committee.component." + f.component.String()
				for _, sc := range prior.GetScores() {
					if sc.GetComponent() == f.component {
						change.Current = formatScore(sc.GetScore())
					}
				}
			}
		}
		seen[dupKey] = line
		if _, ok := results[app.GetName()]; !ok {
			results[app.GetName()] = res
			firstLine[app.GetName()] = line
			sh.Results = append(sh.Results, res)
		}
		sh.Changes = append(sh.Changes, change)
	}
	if stage == seleksiv1.Stage_STAGE_COMPETENCY_TEST {
		// The assessment center's category is required with every competency-test result.
		for _, res := range sh.Results {
			if res.GetCompetencyCategory() == seleksiv1.CompetencyCategory_COMPETENCY_CATEGORY_UNSPECIFIED {
				fail(firstLine[res.GetApplication()], "committee.sheet.category_missing", "name", byKey[res.GetApplication()].GetCandidate().GetFullName())
			}
		}
	}
	if len(sh.Results) == 0 && len(sh.Errors) == 0 {
		fail(2, "committee.sheet.empty")
	}
	return sh
}

// stageComponentsAll are every component a stage may score.
func stageComponentsAll(st seleksiv1.Stage) []seleksiv1.ScoreComponent {
	return stageComponents(&seleksiv1.Selection{}, st)
}

// priorResult is the application's recorded result of stage, if the API shows one.
func priorResult(a *seleksiv1.Application, st seleksiv1.Stage) *seleksiv1.ApplicationStageResult {
	var out *seleksiv1.ApplicationStageResult
	for _, r := range a.GetStageResults() {
		if r.GetStage() == st {
			out = r
		}
	}
	return out
}

func formatScore(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// scoreUploadData is the upload form and, after an upload, the preview.
type scoreUploadData struct {
	ID        string
	Selection *seleksiv1.Selection
	CanRecord bool
	Stage     seleksiv1.Stage
	// After an upload:
	Sheet      *scoreSheet
	CSV        string
	FileName   string
	RequestID  string
	Correction bool
	Reason     string
	Batches    int
	Components []seleksiv1.ScoreComponent
}

// committeeScoreUpload shows the upload form with the sheet's expected layout.
func (s *Server) committeeScoreUpload(w http.ResponseWriter, r *http.Request) {
	d, _, ok := s.loadScoreSheetPage(w, r)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "committee/scores", d)
}

// loadScoreSheetPage reads the selection and its applications (proving the seat).
func (s *Server) loadScoreSheetPage(w http.ResponseWriter, r *http.Request) (scoreUploadData, []*seleksiv1.Application, bool) {
	id := r.PathValue("sel")
	_, sel, apps, ok := s.committeeLoad(w, r, id, "")
	if !ok {
		return scoreUploadData{}, nil, false
	}
	st := sel.GetStage()
	return scoreUploadData{ID: id, Selection: sel, Stage: st, CanRecord: st == seleksiv1.Stage_STAGE_COMPETENCY_TEST || st == seleksiv1.Stage_STAGE_INTERVIEW,
		Components: stageComponents(sel, st)}, apps, true
}

// committeeScorePreview reads an uploaded sheet and shows what it will change.
func (s *Server) committeeScorePreview(w http.ResponseWriter, r *http.Request) {
	d, apps, ok := s.loadScoreSheetPage(w, r)
	if !ok {
		return
	}
	errs := map[string]string{}
	d.Correction = r.FormValue("correction") == "1"
	d.Reason = strings.TrimSpace(r.FormValue("correction_reason"))
	if d.Correction && d.Reason == "" {
		errs["correction_reason"] = s.committeeText(r, "committee.error.correction_reason")
	}
	file, header, err := r.FormFile("file")
	var data []byte
	switch {
	case err != nil:
		errs["file"] = s.committeeText(r, "committee.error.file_required")
	case header.Size > maxSheetBytes:
		errs["file"] = s.committeeText(r, "committee.error.file_too_large")
	default:
		data, err = io.ReadAll(io.LimitReader(file, maxSheetBytes+1))
		_ = file.Close()
		if err != nil || len(data) > maxSheetBytes {
			errs["file"] = s.committeeText(r, "committee.error.file_too_large")
		}
		d.FileName = header.Filename
	}
	if !d.CanRecord {
		errs["request"] = s.committeeText(r, "committee.error.no_scores_now")
	}
	if len(errs) > 0 {
		s.renderForm(w, r, http.StatusUnprocessableEntity, "committee/scores", d, r.Form, errs)
		return
	}
	sh := parseScoreSheet(data, d.Selection, apps, func(code string, kv ...any) string { return s.committeeText(r, code, kv...) })
	d.Sheet, d.CSV, d.RequestID, d.Batches = &sh, string(data), commandRequestID(), len(sh.Batches())
	s.render(w, r, http.StatusOK, "committee/scores", d)
}

// batchOutcome is what happened to one batch.
type batchOutcome struct {
	Index    int
	Count    int
	Recorded uint32
	Error    string
}

// committeeScoreSend sends a confirmed sheet. With a batch number (the page's script sends
// the batches one by one to show progress) it sends that batch and answers JSON; without
// one it sends every batch in turn, stops at the first refused, and shows what happened.
func (s *Server) committeeScoreSend(w http.ResponseWriter, r *http.Request) {
	d, apps, ok := s.loadScoreSheetPage(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "error.refused")
		return
	}
	// The batches' request IDs derive from this one: a malformed or empty one (which would
	// make different sheets' batches collide) is replaced.
	d.RequestID = postedRequestID(r.PostFormValue("request_id"))
	d.Correction = r.PostFormValue("correction") == "1"
	d.Reason = strings.TrimSpace(r.PostFormValue("correction_reason"))
	if r.PostFormValue("stage") != d.Stage.String() || !d.CanRecord {
		s.renderErrorText(w, r, http.StatusConflict, "error.refused", s.committeeText(r, "committee.error.stage_moved"))
		return
	}
	if len(r.PostFormValue("csv")) > maxSheetBytes {
		s.renderErrorText(w, r, http.StatusRequestEntityTooLarge, "error.refused", s.committeeText(r, "committee.error.file_too_large"))
		return
	}
	sh := parseScoreSheet([]byte(r.PostFormValue("csv")), d.Selection, apps, func(code string, kv ...any) string { return s.committeeText(r, code, kv...) })
	if len(sh.Errors) > 0 {
		// The applications changed since the preview (a withdrawal...): preview again.
		d.Sheet, d.CSV, d.Batches = &sh, r.PostFormValue("csv"), len(sh.Batches())
		s.render(w, r, http.StatusConflict, "committee/scores", d)
		return
	}
	batches := sh.Batches()
	send := func(i int) batchOutcome {
		out := batchOutcome{Index: i + 1, Count: len(batches[i])}
		// A token per batch: a long sheet outlasts one page's token.
		ctx, err := s.call(r)
		if err != nil {
			out.Error = s.committeeText(r, "committee.sheet.batch_failed")
			return out
		}
		resp, err := s.api.selections.RecordResults(ctx, &seleksiv1.RecordResultsRequest{Name: "selections/" + d.ID,
			RequestId: fmt.Sprintf("%s-%d", d.RequestID, i), Stage: d.Stage, Results: batches[i],
			Correction: d.Correction, CorrectionReason: d.Reason})
		if err != nil {
			errs, ok := committeeFormErrors(err, nil)
			if !ok {
				out.Error = s.committeeText(r, "committee.sheet.batch_failed")
			}
			for _, m := range errs {
				out.Error = m
			}
			return out
		}
		out.Recorded = resp.GetRecordedCount()
		return out
	}
	if b := r.PostFormValue("batch"); b != "" {
		i, err := strconv.Atoi(b)
		w.Header().Set("Content-Type", "application/json")
		if err != nil || i < 0 || i >= len(batches) {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": s.committeeText(r, "committee.sheet.batch_failed")})
			return
		}
		out := send(i)
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": out.Error == "", "recorded": out.Recorded, "error": out.Error})
		return
	}
	var results []batchOutcome
	failed := false
	for i := range batches {
		out := send(i)
		results = append(results, out)
		if out.Error != "" {
			failed = true
			break
		}
	}
	code := http.StatusOK
	if failed {
		code = http.StatusConflict
	}
	s.render(w, r, code, "committee/scores_sent", scoresSentData{ID: d.ID, Selection: d.Selection, Batches: results, Total: len(batches), Failed: failed})
}

// scoresSentData is the result page of a sent sheet.
type scoresSentData struct {
	ID        string
	Selection *seleksiv1.Selection
	Batches   []batchOutcome
	Total     int
	Failed    bool
}
