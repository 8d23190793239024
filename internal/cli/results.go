package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	validate "buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/proto"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
)

// fallbackMaxResults bounds a batch if the contract ever stops declaring a limit.
const fallbackMaxResults = 1000

// maxResultsPerCall is RecordResultsRequest.results' max_items, read from the contract's
// protovalidate rules, so batches follow the API when its limit changes (it has already
// changed once, from 5,000 to the workflow's batch size of 1,000).
func maxResultsPerCall() int {
	fd := (&seleksiv1.RecordResultsRequest{}).ProtoReflect().Descriptor().Fields().ByName("results")
	rules, _ := proto.GetExtension(fd.Options(), validate.E_Field).(*validate.FieldRules)
	if n := rules.GetRepeated().GetMaxItems(); n > 0 {
		return int(n)
	}
	return fallbackMaxResults
}

// maxReportedRowErrors bounds the errors printed for one score sheet; a sheet with more
// problems than this has a systematic one (wrong column, wrong file) best seen in the first.
const maxReportedRowErrors = 100

// Score-sheet columns. Only application is required; the five score columns become the
// ComponentScore entries of the row.
const (
	colApplication   = "application"
	colOutcome       = "outcome"
	colReason        = "reason"
	colCategory      = "category"
	colManagerial    = "managerial"
	colSocioCultural = "socio_cultural"
	// A per-item sheet of administrative screening: one row per application and item.
	colItem = "item"
	colMet  = "met"
	colNote = "note"
)

// scoreColumns maps the score columns to their components, in the order of the format.
func scoreColumns() []struct {
	col  string
	comp seleksiv1.ScoreComponent
} {
	return []struct {
		col  string
		comp seleksiv1.ScoreComponent
	}{
		{"written_test", seleksiv1.ScoreComponent_SCORE_COMPONENT_WRITTEN_TEST},
		{"competency_test", seleksiv1.ScoreComponent_SCORE_COMPONENT_COMPETENCY_TEST},
		{"paper", seleksiv1.ScoreComponent_SCORE_COMPONENT_PAPER},
		{"interview", seleksiv1.ScoreComponent_SCORE_COMPONENT_INTERVIEW},
		{"track_record", seleksiv1.ScoreComponent_SCORE_COMPONENT_TRACK_RECORD},
	}
}

const scoreSheetHelp = `The score sheet is a CSV file with a header row naming its columns, in any order:

  application      the application's ID (a-1) or full name (selections/S/applications/a-1); required
  outcome          pass, fail or none (also lulus or MS, tidak-lulus or TMS); empty means none: only scores
                   are recorded and the selection's pass thresholds decide when the stage closes
  reason           why; required for fail, and published to the candidate
  category         competency category: MS (meets), MMS (still meets), KMS or BMS (does not meet)
  managerial       assessment-center managerial score, 0-100 (competency test, informative)
  socio_cultural   assessment-center socio-cultural score, 0-100 (competency test, informative)
  written_test, competency_test, paper, interview, track_record
                   component scores, 0-100; empty cells are not sent

Only the application column is required; every row needs an outcome or at least one score.
Lines starting with # are comments. A sheet saved by a spreadsheet with ';' between fields and
decimal commas (85,5) is read as well, and a UTF-8 byte-order mark is ignored.
Every row is checked before anything is sent; errors name the line. Then rows go in batches of
--batch, each with request ID BASE-N (BASE from --request-id): if an import stops half-way, run
the same command with the same file, --batch and --request-id, and the batches already
recorded are applied once. See internal/cli/testdata/scores.csv.

Administrative screening item by item: a sheet whose header has an item column has long rows
application,item,met,note, one per requirement item of an application:

  application      as above; the rows of one application may be anywhere in the sheet
  item             education, experience, administrator_post, age, document:<id> (a required
                   document) or the id of an item the agency added
  met              yes or no (also met/unmet, ya/tidak, memenuhi/tidak-memenuhi, MS/TMS, 1/0)
  note             the committee's note; required where the verdict overrides the automatic
                   proposal made when the announcement closed

Such a sheet takes no other columns. Items left out keep their state; the outcome follows from
the items (all met: pass; any unmet: fail with the unmet items as the reason), and the stage
cannot be published while an item is still unknown. Each application is one result of the
batch. See internal/cli/testdata/screening-items.csv.

To replace results already recorded (a mistyped score, a verdict on the wrong row) before the
stage's result is published, send the corrected rows with --correction "REASON": the reason is
required and goes to the audit trail, which keeps the values replaced. Without it, a row for an
application that already has a result is refused. See internal/cli/testdata/scores-correction.csv.
After publication a result changes only through an objection or the chair's correction
(POST /v1/selections/{id}:correctResult).`

func resultsRecord() *command {
	var stage, csvPath, member, correction string
	var batch int
	var dryRun bool
	return &command{
		path: "results record", args: "ID --stage STAGE --csv FILE [--batch 500] [--member M] [--correction REASON]", nargs: 1, mutating: true,
		summary: "record the current stage's results from a CSV score sheet (committee)",
		help:    scoreSheetHelp,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&stage, "stage", "", "the current stage: administrative-screening, competency-test or interview (required)")
			fs.StringVar(&csvPath, "csv", "", "the score sheet, a CSV `FILE`; - reads stdin (required)")
			fs.IntVar(&batch, "batch", 500, fmt.Sprintf("rows per call, 1 to %d (the API's limit)", maxResultsPerCall()))
			fs.StringVar(&member, "member", "", "interview: the member whose scores these are; the server accepts only the caller's own ID")
			fs.BoolVar(&dryRun, "dry-run", false, "check the sheet and stop before sending")
			fs.StringVar(&correction, "correction", "", "replace results already recorded, for this `REASON` (kept in the audit trail)")
		},
		run: func(ctx context.Context, inv *invocation, args []string) error {
			if err := requireFlags(inv.fs, "stage", "csv"); err != nil {
				return err
			}
			correcting := false
			inv.fs.Visit(func(f *flag.Flag) { correcting = correcting || f.Name == "correction" })
			if correcting && strings.TrimSpace(correction) == "" {
				return usageErrorf("--correction needs the reason for replacing the recorded results")
			}
			name, err := selectionName(args[0])
			if err != nil {
				return err
			}
			st, err := parseStage(stage)
			if err != nil {
				return err
			}
			switch st {
			case seleksiv1.Stage_STAGE_ADMINISTRATIVE_SCREENING, seleksiv1.Stage_STAGE_COMPETENCY_TEST, seleksiv1.Stage_STAGE_INTERVIEW:
			default:
				return usageErrorf("results are recorded for administrative-screening, competency-test or interview, not %s", stageSlug(st))
			}
			if limit := maxResultsPerCall(); batch < 1 || batch > limit {
				return usageErrorf("--batch must be 1 to %d", limit)
			}
			data, err := inv.readInput("csv", csvPath)
			if err != nil {
				return err
			}
			rows, err := parseScoreSheet(data, csvPath, name)
			if err != nil {
				return err
			}
			if len(rows[0].result.GetItems()) > 0 && st != seleksiv1.Stage_STAGE_ADMINISTRATIVE_SCREENING {
				return usageErrorf("%s: per-item verdicts are for administrative-screening, not %s", csvPath, stageSlug(st))
			}
			batches := (len(rows) + batch - 1) / batch
			if suffix := len(fmt.Sprintf("-%d", batches)); len(inv.requestID)+suffix > 64 {
				return usageErrorf("--request-id is too long for %d batches: at most %d characters", batches, 64-suffix)
			}
			if dryRun {
				fmt.Fprintf(inv.app.Stdout, "%s: %d rows are valid; %d batch(es) of up to %d would be sent\n", csvPath, len(rows), batches, batch)
				return nil
			}
			return inv.sendResults(ctx, name, st, member, correction, rows, batch)
		},
	}
}

// sheetRow is one checked row of a score sheet and the line it came from.
type sheetRow struct {
	line   int
	result *seleksiv1.ApplicationResult
}

// sendResults records rows in batches. Each batch's request ID is the base request ID plus
// its number, so re-running a stopped import with the same base re-sends the recorded batches
// harmlessly (the server answers them from its idempotency record) and continues.
func (inv *invocation) sendResults(ctx context.Context, sel string, st seleksiv1.Stage, member, correction string, rows []sheetRow, size int) error {
	start := time.Now()
	bar := newProgress(inv.app.Stderr, inv.app.Interactive, len(rows))
	total := &seleksiv1.RecordResultsResponse{}
	batches := (len(rows) + size - 1) / size
	for n := 1; n <= batches; n++ {
		chunk := rows[(n-1)*size : min(n*size, len(rows))]
		req := &seleksiv1.RecordResultsRequest{
			Name: sel, RequestId: fmt.Sprintf("%s-%d", inv.requestID, n), Stage: st, MemberId: member,
			Correction: correction != "", CorrectionReason: correction,
		}
		for _, r := range chunk {
			req.Results = append(req.Results, r.result)
		}
		resp, err := inv.selections.RecordResults(ctx, req)
		if err != nil {
			bar.stop()
			fmt.Fprintf(inv.app.Stderr, "seleksictl: batch %d of %d (lines %d-%d) failed; %d of %d rows were recorded before it\n",
				n, batches, chunk[0].line, chunk[len(chunk)-1].line, (n-1)*size, len(rows))
			if retryable(err) {
				fmt.Fprintf(inv.app.Stderr, "seleksictl: to resume, run the same command with --request-id %s (same file and --batch)\n", inv.requestID)
			}
			return err
		}
		total.RecordedCount += resp.GetRecordedCount()
		total.Selection = resp.GetSelection()
		bar.set((n-1)*size + len(chunk))
	}
	bar.done(fmt.Sprintf("%d rows in %d batch(es), %s", len(rows), batches, since(start)))
	// As JSON, the summary is one RecordResultsResponse: recorded_count over all batches and
	// the selection as the last batch left it.
	return inv.print(total, func(t *table) {
		t.row("Recorded", strconv.Itoa(int(total.GetRecordedCount())))
		t.row("Rows", strconv.Itoa(len(rows)))
		t.row("Batches", fmt.Sprintf("%d (request IDs %s-1 to %s-%d)", batches, inv.requestID, inv.requestID, batches))
		t.row("Stage", stageSlug(st))
		t.row("Selection", sel)
	})
}

// parseScoreSheet reads and checks a whole score sheet. It returns every problem it finds,
// each with its line, rather than stopping at the first, so one round of fixes is enough.
func parseScoreSheet(data []byte, file, sel string) ([]sheetRow, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = sniffDelimiter(data)
	r.Comment = '#'
	r.TrimLeadingSpace = true
	r.ReuseRecord = false

	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, usageErrorf("%s: empty score sheet", file)
	}
	if err != nil {
		return nil, usageErrorf("%s: %v", file, err)
	}
	headerLine, _ := r.FieldPos(0)
	cols := map[string]int{}
	known := map[string]bool{colApplication: true, colOutcome: true, colReason: true, colCategory: true, colManagerial: true, colSocioCultural: true,
		colItem: true, colMet: true, colNote: true}
	for _, sc := range scoreColumns() {
		known[sc.col] = true
	}
	var problems []string
	for i, h := range header {
		h = strings.ToLower(strings.NewReplacer(" ", "_", "-", "_").Replace(strings.TrimSpace(h)))
		switch {
		case !known[h]:
			problems = append(problems, fmt.Sprintf("%s:%d: unknown column %q", file, headerLine, header[i]))
		case cols[h] != 0:
			problems = append(problems, fmt.Sprintf("%s:%d: column %q appears twice", file, headerLine, h))
		default:
			cols[h] = i + 1 // 1-based so the zero value means "absent"
		}
	}
	if cols[colApplication] == 0 {
		problems = append(problems, fmt.Sprintf("%s:%d: no %q column", file, headerLine, colApplication))
	}
	perItem := cols[colItem] != 0 || cols[colMet] != 0 || cols[colNote] != 0
	if perItem {
		for col := range cols {
			if col != colApplication && col != colItem && col != colMet && col != colNote {
				problems = append(problems, fmt.Sprintf("%s:%d: column %q does not go with item, met and note (a per-item sheet)", file, headerLine, col))
			}
		}
		for _, col := range []string{colItem, colMet} {
			if cols[col] == 0 {
				problems = append(problems, fmt.Sprintf("%s:%d: a per-item sheet needs the %q column", file, headerLine, col))
			}
		}
		slices.Sort(problems)
	}
	if len(problems) > 0 {
		return nil, &usageError{msg: file + ": bad header; nothing was sent", details: problems}
	}
	if perItem {
		return parseItemRows(r, file, sel, cols, len(header))
	}

	var rows []sheetRow
	seen := map[string]int{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
			problems = append(problems, fmt.Sprintf("%s:%d: %d fields, the header has %d", file, pe.StartLine, len(rec), len(header)))
			continue
		}
		if err != nil {
			// A broken quote leaves the reader unable to tell where the next row starts.
			problems = append(problems, fmt.Sprintf("%s: %v", file, err))
			break
		}
		line, _ := r.FieldPos(0)
		if i := slices.IndexFunc(rec, func(c string) bool { return !utf8.ValidString(c) }); i >= 0 {
			// Protobuf refuses such text, so the row could be checked here and still fail
			// half-way through the import. A sheet saved as "CSV" by a spreadsheet set to a
			// Western locale is Windows-1252, not UTF-8.
			problems = append(problems, fmt.Sprintf("%s:%d: column %d is not UTF-8 text; save the sheet as \"CSV UTF-8\"", file, line, i+1))
			continue
		}
		cell := func(col string) string {
			if i := cols[col]; i != 0 {
				return strings.TrimSpace(rec[i-1])
			}
			return ""
		}
		res, errs := parseRow(cell, sel)
		for _, e := range errs {
			problems = append(problems, fmt.Sprintf("%s:%d: %s", file, line, e))
		}
		if len(errs) > 0 {
			continue
		}
		if first, dup := seen[res.GetApplication()]; dup {
			problems = append(problems, fmt.Sprintf("%s:%d: %s is also on line %d", file, line, res.GetApplication(), first))
			continue
		}
		seen[res.GetApplication()] = line
		rows = append(rows, sheetRow{line: line, result: res})
	}
	if len(problems) > 0 {
		ue := &usageError{msg: fmt.Sprintf("%s: %d problem(s); nothing was sent", file, len(problems))}
		if len(problems) > maxReportedRowErrors {
			ue.details = append(problems[:maxReportedRowErrors:maxReportedRowErrors],
				fmt.Sprintf("... and %d more", len(problems)-maxReportedRowErrors))
		} else {
			ue.details = problems
		}
		return nil, ue
	}
	if len(rows) == 0 {
		return nil, usageErrorf("%s: no rows under the header", file)
	}
	return rows, nil
}

// parseRow builds one ApplicationResult from a row's cells and checks it against the API's
// rules, so that the server's InvalidArgument (which could only name the batch) never
// happens for a row the CLI can check itself.
func parseRow(cell func(string) string, sel string) (*seleksiv1.ApplicationResult, []string) {
	var errs []string
	res := &seleksiv1.ApplicationResult{Reason: cell(colReason)}
	if app := cell(colApplication); app == "" {
		errs = append(errs, "application is empty")
	} else if name, err := applicationIn(sel, app); err != nil {
		errs = append(errs, err.Error())
	} else {
		res.Application = name
	}
	if o := cell(colOutcome); o != "" {
		var err error
		if res.Outcome, err = parseOutcome(o); err != nil {
			errs = append(errs, "outcome: "+err.Error())
		}
	} else {
		res.Outcome = seleksiv1.Outcome_OUTCOME_NONE
	}
	if c := cell(colCategory); c != "" {
		var err error
		if res.CompetencyCategory, err = parseCategory(c); err != nil {
			errs = append(errs, "category: "+err.Error())
		}
	}
	for _, f := range []struct {
		col string
		dst *float64
	}{{colManagerial, &res.ManagerialScore}, {colSocioCultural, &res.SocioCulturalScore}} {
		if v := cell(f.col); v != "" {
			s, err := parseScore(v)
			if err != nil {
				errs = append(errs, f.col+": "+err.Error())
			}
			*f.dst = s
		}
	}
	for _, sc := range scoreColumns() {
		if v := cell(sc.col); v != "" {
			s, err := parseScore(v)
			if err != nil {
				errs = append(errs, sc.col+": "+err.Error())
				continue
			}
			res.Scores = append(res.Scores, &seleksiv1.ComponentScore{Component: sc.comp, Score: s})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if res.Outcome == seleksiv1.Outcome_OUTCOME_NONE && len(res.Scores) == 0 {
		return nil, []string{"no outcome and no scores"}
	}
	if err := protovalidate.Validate(res); err != nil {
		var verr *protovalidate.ValidationError
		if !errors.As(err, &verr) {
			return nil, []string{err.Error()}
		}
		for _, v := range verr.Violations {
			errs = append(errs, violationText(v))
		}
		return nil, errs
	}
	return res, nil
}

// sniffDelimiter picks ';' for sheets saved by spreadsheets set to a locale with decimal
// commas (as Indonesian ones are), ',' otherwise, judging by the header line.
func sniffDelimiter(data []byte) rune {
	for line := range strings.Lines(string(data)) {
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if strings.Count(line, ";") > strings.Count(line, ",") {
			return ';'
		}
		return ','
	}
	return ','
}

// parseScore reads a score from 0 to 100, with a decimal point or a decimal comma.
func parseScore(s string) (float64, error) {
	if !strings.Contains(s, ".") {
		s = strings.Replace(s, ",", ".", 1)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if v < 0 || v > 100 {
		return 0, fmt.Errorf("%s is not between 0 and 100", s)
	}
	return v, nil
}

func parseOutcome(s string) (seleksiv1.Outcome, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "lulus", "l", "ms":
		return seleksiv1.Outcome_OUTCOME_PASS, nil
	case "tidak-lulus", "tidak_lulus", "tidak lulus", "tl", "tms":
		return seleksiv1.Outcome_OUTCOME_FAIL, nil
	}
	ed := seleksiv1.Outcome(0).Descriptor()
	n, ok := parseEnum(ed, s)
	if !ok {
		return 0, fmt.Errorf("%q: want %s", s, enumChoices(ed))
	}
	return seleksiv1.Outcome(n), nil
}

func parseCategory(s string) (seleksiv1.CompetencyCategory, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "MS":
		return seleksiv1.CompetencyCategory_COMPETENCY_CATEGORY_MEETS, nil
	case "MMS":
		return seleksiv1.CompetencyCategory_COMPETENCY_CATEGORY_STILL_MEETS, nil
	case "KMS", "BMS", "TMS":
		return seleksiv1.CompetencyCategory_COMPETENCY_CATEGORY_DOES_NOT_MEET, nil
	}
	ed := seleksiv1.CompetencyCategory(0).Descriptor()
	n, ok := parseEnum(ed, s)
	if !ok {
		return 0, fmt.Errorf("%q: want MS, MMS, KMS, BMS or %s", s, enumChoices(ed))
	}
	return seleksiv1.CompetencyCategory(n), nil
}

func parseComponentScore(comp, val string) (*seleksiv1.ComponentScore, error) {
	ed := seleksiv1.ScoreComponent(0).Descriptor()
	n, ok := parseEnum(ed, comp)
	if !ok {
		return nil, fmt.Errorf("unknown component %q: want %s", comp, enumChoices(ed))
	}
	v, err := parseScore(val)
	if err != nil {
		return nil, err
	}
	return &seleksiv1.ComponentScore{Component: seleksiv1.ScoreComponent(n), Score: v}, nil
}

// parseItemRows reads the rows of a per-item sheet (application,item,met,note) into one
// result per application, with its items in the order of the rows, and checks them all.
func parseItemRows(r *csv.Reader, file, sel string, cols map[string]int, fields int) ([]sheetRow, error) {
	var problems []string
	var rows []sheetRow
	index := map[string]int{}   // application -> its row in rows
	seen := map[[2]string]int{} // application and item -> line
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
			problems = append(problems, fmt.Sprintf("%s:%d: %d fields, the header has %d", file, pe.StartLine, len(rec), fields))
			continue
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", file, err))
			break
		}
		line, _ := r.FieldPos(0)
		if i := slices.IndexFunc(rec, func(c string) bool { return !utf8.ValidString(c) }); i >= 0 {
			problems = append(problems, fmt.Sprintf("%s:%d: column %d is not UTF-8 text; save the sheet as \"CSV UTF-8\"", file, line, i+1))
			continue
		}
		cell := func(col string) string {
			if i := cols[col]; i != 0 {
				return strings.TrimSpace(rec[i-1])
			}
			return ""
		}
		var errs []string
		app := cell(colApplication)
		name, err := applicationIn(sel, app)
		switch {
		case app == "":
			errs = append(errs, "application is empty")
		case err != nil:
			errs = append(errs, err.Error())
		}
		v := &seleksiv1.RequirementVerdict{Item: cell(colItem), Note: cell(colNote)}
		if v.Item == "" {
			errs = append(errs, "item is empty")
		}
		met, err := parseMet(cell(colMet))
		if err != nil {
			errs = append(errs, "met: "+err.Error())
		}
		v.Met = met
		if len(errs) == 0 {
			if err := protovalidate.Validate(v); err != nil {
				var verr *protovalidate.ValidationError
				if !errors.As(err, &verr) {
					errs = append(errs, err.Error())
				} else {
					for _, viol := range verr.Violations {
						errs = append(errs, violationText(viol))
					}
				}
			}
		}
		if len(errs) == 0 {
			if first, dup := seen[[2]string{name, v.Item}]; dup {
				errs = append(errs, fmt.Sprintf("item %s of %s is also on line %d", v.Item, name, first))
			}
		}
		for _, e := range errs {
			problems = append(problems, fmt.Sprintf("%s:%d: %s", file, line, e))
		}
		if len(errs) > 0 {
			continue
		}
		seen[[2]string{name, v.Item}] = line
		i, ok := index[name]
		if !ok {
			i = len(rows)
			index[name] = i
			rows = append(rows, sheetRow{line: line, result: &seleksiv1.ApplicationResult{Application: name}})
		}
		rows[i].result.Items = append(rows[i].result.Items, v)
	}
	if len(problems) > 0 {
		ue := &usageError{msg: fmt.Sprintf("%s: %d problem(s); nothing was sent", file, len(problems))}
		if len(problems) > maxReportedRowErrors {
			ue.details = append(problems[:maxReportedRowErrors:maxReportedRowErrors],
				fmt.Sprintf("... and %d more", len(problems)-maxReportedRowErrors))
		} else {
			ue.details = problems
		}
		return nil, ue
	}
	if len(rows) == 0 {
		return nil, usageErrorf("%s: no rows under the header", file)
	}
	for _, row := range rows {
		if err := protovalidate.Validate(row.result); err != nil {
			return nil, usageErrorf("%s:%d: %s has too many items: %v", file, row.line, row.result.GetApplication(), err)
		}
	}
	return rows, nil
}

// parseMet reads a per-item verdict.
func parseMet(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yes", "y", "met", "true", "1", "ya", "memenuhi", "ms":
		return true, nil
	case "no", "n", "unmet", "false", "0", "tidak", "tidak-memenuhi", "tidak_memenuhi", "tidak memenuhi", "tms":
		return false, nil
	case "":
		return false, errors.New("empty; write yes or no")
	}
	return false, fmt.Errorf("%q is neither yes nor no", s)
}
