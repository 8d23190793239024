package cli

import (
	"bytes"
	"encoding/csv"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"buf.build/go/protovalidate"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
)

const fuzzSelection = "selections/dinas-pendidikan-2026"

// FuzzScoreSheet feeds arbitrary bytes to the score-sheet parser behind `seleksictl
// results record`. A sheet is either refused as a usage error (exit code 2) with a bounded
// list of problems, or every row it yields is one the API accepts and protobuf can encode
// (so nothing fails after the first batch was sent), and writing the rows back as a sheet
// and reading that gives the same results.
func FuzzScoreSheet(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := parseScoreSheet(data, "scores.csv", fuzzSelection)
		if err != nil {
			var ue *usageError
			if !errors.As(err, &ue) {
				t.Fatalf("not a usage error: %T %v", err, err)
			}
			if len(ue.details) > maxReportedRowErrors+1 {
				t.Fatalf("%d problems reported, at most %d", len(ue.details), maxReportedRowErrors+1)
			}
			return
		}
		if len(rows) == 0 {
			t.Fatal("no rows and no error")
		}
		if lines := bytes.Count(data, []byte("\n")) + 1; len(rows) >= lines {
			t.Fatalf("%d rows from %d lines (one is the header)", len(rows), lines)
		}
		checkRows(t, rows)
		again, err := parseScoreSheet(formatSheet(t, rows), "again.csv", fuzzSelection)
		if err != nil {
			t.Fatalf("the rows written back do not parse: %v %v\n%s", err, errDetails(err), formatSheet(t, rows))
		}
		if len(again) != len(rows) {
			t.Fatalf("%d rows written back read as %d", len(rows), len(again))
		}
		for i := range rows {
			if !proto.Equal(rows[i].result, again[i].result) {
				t.Fatalf("row %d: %v written back reads as %v", i, rows[i].result, again[i].result)
			}
		}
	})
}

func errDetails(err error) []string {
	var ue *usageError
	if errors.As(err, &ue) {
		return ue.details
	}
	return nil
}

// checkRows: lines ascend, applications are distinct and in the selection, every result
// passes the API's rules and encodes, scores are finite and within 0-100.
func checkRows(t *testing.T, rows []sheetRow) {
	t.Helper()
	seen := map[string]bool{}
	prev := 0
	for _, r := range rows {
		res := r.result
		if r.line <= prev {
			t.Fatalf("line %d after line %d", r.line, prev)
		}
		prev = r.line
		app := res.GetApplication()
		if !strings.HasPrefix(app, fuzzSelection+"/applications/") || seen[app] {
			t.Fatalf("line %d: application %q (seen before: %v)", r.line, app, seen[app])
		}
		seen[app] = true
		if err := protovalidate.Validate(res); err != nil {
			t.Fatalf("line %d: %v", r.line, err)
		}
		if _, err := proto.Marshal(res); err != nil {
			t.Fatalf("line %d: the result cannot be sent: %v", r.line, err)
		}
		if res.GetOutcome() == seleksiv1.Outcome_OUTCOME_UNSPECIFIED ||
			(res.GetOutcome() == seleksiv1.Outcome_OUTCOME_NONE && len(res.GetScores()) == 0) {
			t.Fatalf("line %d: outcome %v with %d scores", r.line, res.GetOutcome(), len(res.GetScores()))
		}
		scores := []float64{res.GetManagerialScore(), res.GetSocioCulturalScore()}
		for _, s := range res.GetScores() {
			scores = append(scores, s.GetScore())
		}
		for _, s := range scores {
			if math.IsNaN(s) || s < 0 || s > 100 {
				t.Fatalf("line %d: score %v", r.line, s)
			}
		}
	}
}

// formatSheet writes rows as a score sheet with every column, enums by their full names.
func formatSheet(t *testing.T, rows []sheetRow) []byte {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	head := []string{colApplication, colOutcome, colReason, colCategory, colManagerial, colSocioCultural}
	for _, sc := range scoreColumns() {
		head = append(head, sc.col)
	}
	_ = w.Write(head)
	num := func(v float64) string {
		if v == 0 {
			return ""
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	for _, r := range rows {
		res := r.result
		cat := ""
		if res.GetCompetencyCategory() != 0 {
			cat = res.GetCompetencyCategory().String()
		}
		rec := []string{res.GetApplication(), res.GetOutcome().String(), res.GetReason(), cat,
			num(res.GetManagerialScore()), num(res.GetSocioCulturalScore())}
		for _, sc := range scoreColumns() {
			v := ""
			for _, s := range res.GetScores() {
				if s.GetComponent() == sc.comp {
					v = strconv.FormatFloat(s.GetScore(), 'g', -1, 64)
				}
			}
			rec = append(rec, v)
		}
		_ = w.Write(rec)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// FuzzSelectionYAML feeds arbitrary bytes to the YAML reader behind `seleksictl selection
// create -f` (and `application submit -f`). A file is either refused as a usage error, or
// the message it gives can be sent (protobuf encodes it), the API's rules judge it without
// failing themselves, and writing it out as YAML and reading that back gives it again.
func FuzzSelectionYAML(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, m := range []proto.Message{&seleksiv1.Selection{}, &seleksiv1.Application{}} {
			if err := decodeYAML(data, "selection.yaml", m); err != nil {
				var ue *usageError
				if !errors.As(err, &ue) {
					t.Fatalf("not a usage error: %T %v", err, err)
				}
				continue
			}
			if _, err := proto.Marshal(m); err != nil {
				t.Fatalf("a %T read from YAML cannot be sent: %v", m, err)
			}
			var req proto.Message
			switch m := m.(type) {
			case *seleksiv1.Selection:
				req = &seleksiv1.CreateSelectionRequest{RequestId: "req-0001", Selection: m}
			case *seleksiv1.Application:
				req = &seleksiv1.SubmitApplicationRequest{Parent: fuzzSelection, RequestId: "req-0001", Application: m}
			}
			if err := protovalidate.Validate(req); err != nil {
				var verr *protovalidate.ValidationError
				if !errors.As(err, &verr) {
					t.Fatalf("the API's rules fail on a %T: %v", m, err)
				}
			}
			js, err := protojson.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			y, err := yaml.JSONToYAML(js)
			if err != nil {
				t.Fatal(err)
			}
			back := m.ProtoReflect().New().Interface()
			if err := decodeYAML(y, "again.yaml", back); err != nil {
				t.Fatalf("a %T written as YAML does not read back: %v\n%s", m, err, y)
			}
			if !proto.Equal(m, back) {
				t.Fatalf("a %T written as YAML reads back as another:\n%v\n%v\n%s", m, m, back, y)
			}
		}
	})
}
