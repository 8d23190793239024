package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
)

// bigSheet is a competency-test score sheet of n rows.
func bigSheet(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("application,category,competency_test,paper\n")
	for i := range n {
		fmt.Fprintf(&b, "app-%05d,MS,%d.5,%d\n", i, 60+i%40, 50+i%50)
	}
	p := filepath.Join(t.TempDir(), "scores.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestResultsRecordSendsBatches(t *testing.T) {
	tests := []struct {
		rows, batch int
		wantSizes   []int
	}{
		{1203, 500, []int{500, 500, 203}},
		{1000, 500, []int{500, 500}},
		{4, 500, []int{4}},
		{7, 1, []int{1, 1, 1, 1, 1, 1, 1}},
		{1001, 1000, []int{1000, 1}},
	}
	if maxResultsPerCall() != 1000 {
		t.Fatalf("the contract allows %d results per call; update these cases", maxResultsPerCall())
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d rows by %d", tt.rows, tt.batch), func(t *testing.T) {
			rec, addr := fakeServer(t)
			sheet := bigSheet(t, tt.rows)
			res := runCLI(t, addr, nil, "-o", "json", "results", "record", "s-one", "--stage", "competency-test",
				"--csv", sheet, "--batch", fmt.Sprint(tt.batch), "--request-id", "import-2026-11")
			if res.code != ExitOK {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			calls := rec.Calls()
			if len(calls) != len(tt.wantSizes) {
				t.Fatalf("%d calls, want %d", len(calls), len(tt.wantSizes))
			}
			seen := map[string]bool{}
			next := 0
			for i, c := range calls {
				req := c.req.(*seleksiv1.RecordResultsRequest)
				if want := fmt.Sprintf("import-2026-11-%d", i+1); req.GetRequestId() != want {
					t.Errorf("batch %d request_id = %q, want %q", i+1, req.GetRequestId(), want)
				}
				if seen[req.GetRequestId()] {
					t.Errorf("request_id %q sent twice", req.GetRequestId())
				}
				seen[req.GetRequestId()] = true
				if len(req.GetResults()) != tt.wantSizes[i] {
					t.Errorf("batch %d has %d results, want %d", i+1, len(req.GetResults()), tt.wantSizes[i])
				}
				if req.GetName() != "selections/s-one" || req.GetStage() != seleksiv1.Stage_STAGE_COMPETENCY_TEST {
					t.Errorf("batch %d: name %q stage %v", i+1, req.GetName(), req.GetStage())
				}
				// Rows keep the sheet's order across batches.
				for _, r := range req.GetResults() {
					if want := fmt.Sprintf("selections/s-one/applications/app-%05d", next); r.GetApplication() != want {
						t.Fatalf("result %d is %s, want %s", next, r.GetApplication(), want)
					}
					next++
				}
			}
			var summary seleksiv1.RecordResultsResponse
			if err := protojson.Unmarshal([]byte(res.stdout), &summary); err != nil {
				t.Fatalf("stdout is not a RecordResultsResponse: %v\n%s", err, res.stdout)
			}
			if int(summary.GetRecordedCount()) != tt.rows {
				t.Errorf("recorded_count = %d, want %d", summary.GetRecordedCount(), tt.rows)
			}
			// Not a terminal: no redrawn bar, one final line.
			if strings.Contains(res.stderr, "\r") || !strings.Contains(res.stderr, fmt.Sprintf("recorded %d rows in %d batch(es)", tt.rows, len(tt.wantSizes))) {
				t.Errorf("stderr:\n%q", res.stderr)
			}
		})
	}
}

func TestResultsRecordParsesRows(t *testing.T) {
	rec, addr := fakeServer(t)
	sheet := filepath.Join(t.TempDir(), "interview.csv")
	// A spreadsheet export: byte-order mark, ';' between fields, decimal commas, columns in
	// another order, spaces in the header.
	content := "\ufeffInterview;Application;Outcome;Reason\n" +
		"82,5;a-one;;\n" +
		";selections/s-one/applications/a-two;tidak lulus;Tidak hadir wawancara\n" +
		"90;a-three;PASS;\n"
	if err := os.WriteFile(sheet, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	res := runCLI(t, addr, nil, "results", "record", "s-one", "--stage", "interview", "--csv", sheet, "--member", "m-chair")
	if res.code != ExitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	req := rec.Calls()[0].req.(*seleksiv1.RecordResultsRequest)
	interview := seleksiv1.ScoreComponent_SCORE_COMPONENT_INTERVIEW
	want := []*seleksiv1.ApplicationResult{
		{Application: "selections/s-one/applications/a-one", Outcome: seleksiv1.Outcome_OUTCOME_NONE,
			Scores: []*seleksiv1.ComponentScore{{Component: interview, Score: 82.5}}},
		{Application: "selections/s-one/applications/a-two", Outcome: seleksiv1.Outcome_OUTCOME_FAIL, Reason: "Tidak hadir wawancara"},
		{Application: "selections/s-one/applications/a-three", Outcome: seleksiv1.Outcome_OUTCOME_PASS,
			Scores: []*seleksiv1.ComponentScore{{Component: interview, Score: 90}}},
	}
	if req.GetMemberId() != "m-chair" || len(req.GetResults()) != len(want) {
		t.Fatalf("request %v", req)
	}
	for i := range want {
		if !proto.Equal(req.GetResults()[i], want[i]) {
			t.Errorf("row %d = %v, want %v", i+1, req.GetResults()[i], want[i])
		}
	}
	if !strings.Contains(res.stdout, "Recorded") || !strings.Contains(res.stderr, "request id: ") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	}
}

func TestResultsRecordReportsCSVErrorsWithLines(t *testing.T) {
	tests := []struct {
		name  string
		sheet string
		want  []string // each must appear in stderr
	}{
		{
			name: "bad rows",
			sheet: "# comment lines count too\n" +
				"application,outcome,reason,category,managerial,interview\n" + // line 2
				"a-one,pass,,MS,80,70\n" + // 3: fine
				"a-two,fail,,MS,80,70\n" + // 4: fail without reason
				"a-three,maybe,,MS,80,70\n" + // 5: bad outcome
				"a-four,pass,,XX,80,70\n" + // 6: bad category
				"a-five,pass,,MS,eighty,70\n" + // 7: not a number
				"a-six,pass,,MS,80,101\n" + // 8: out of range
				"A_7,pass,,MS,80,70\n" + // 9: bad application ID
				"a-one,pass,,MS,80,70\n" + // 10: duplicate of line 3
				"a-eight,,,,,\n" + // 11: nothing to record
				"a-nine,pass\n" + // 12: wrong number of fields
				",pass,,MS,80,70\n", // 13: no application
			want: []string{
				"scores.csv:4: reason is required when outcome is OUTCOME_FAIL",
				"scores.csv:5: outcome:",
				"scores.csv:6: category:",
				"scores.csv:7: managerial:",
				"scores.csv:8: interview: 101 is not between 0 and 100",
				"scores.csv:9:",
				"scores.csv:10: selections/s-one/applications/a-one is also on line 3",
				"scores.csv:11: no outcome and no scores",
				"scores.csv:12: 2 fields, the header has 6",
				"scores.csv:13: application is empty",
				"10 problem(s); nothing was sent",
			},
		},
		{
			name:  "unknown and missing columns",
			sheet: "aplikasi,score\nx,1\n",
			want:  []string{`scores.csv:1: unknown column "aplikasi"`, `scores.csv:1: unknown column "score"`, `no "application" column`},
		},
		{
			name:  "application of another selection",
			sheet: "application,outcome\nselections/s-two/applications/a-one,pass\n",
			want:  []string{"scores.csv:2: application selections/s-two/applications/a-one is not in selections/s-one"},
		},
		{
			// A sheet saved as "CSV" in a Western locale is Windows-1252: é is one byte.
			name:  "not UTF-8",
			sheet: "application,outcome,reason\na-one,fail,Berkas tidak lengkap (caf\xe9)\na-two,pass,\n",
			want:  []string{`scores.csv:2: column 3 is not UTF-8 text; save the sheet as "CSV UTF-8"`, "1 problem(s); nothing was sent"},
		},
		{
			name:  "header only",
			sheet: "application,outcome\n",
			want:  []string{"no rows under the header"},
		},
		{
			name:  "empty",
			sheet: "",
			want:  []string{"empty score sheet"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, addr := fakeServer(t)
			p := filepath.Join(t.TempDir(), "scores.csv")
			if err := os.WriteFile(p, []byte(tt.sheet), 0o600); err != nil {
				t.Fatal(err)
			}
			res := runCLI(t, addr, nil, "results", "record", "s-one", "--stage", "interview", "--csv", p)
			if res.code != ExitUsage {
				t.Errorf("exit %d, want %d", res.code, ExitUsage)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, res.stderr)
				}
			}
			if n := len(rec.Calls()); n != 0 {
				t.Errorf("%d call(s) sent for an invalid sheet", n)
			}
		})
	}
}

func TestResultsRecordResumesWithTheSameRequestIDs(t *testing.T) {
	rec, addr := fakeServer(t)
	sheet := bigSheet(t, 25)
	failed := false
	rec.reply["RecordResults"] = func(req proto.Message) (proto.Message, error) {
		r := req.(*seleksiv1.RecordResultsRequest)
		if strings.HasSuffix(r.GetRequestId(), "-2") && !failed {
			failed = true
			return nil, status.Error(codes.Unavailable, "server restarting")
		}
		return &seleksiv1.RecordResultsResponse{RecordedCount: uint32(len(r.GetResults()))}, nil
	}
	args := []string{"results", "record", "s-one", "--stage", "competency-test", "--csv", sheet, "--batch", "10"}
	res := runCLI(t, addr, nil, args...)
	if res.code != ExitFailure {
		t.Fatalf("exit %d, want %d", res.code, ExitFailure)
	}
	first := rec.Calls()
	base := strings.TrimSuffix(first[0].req.(*seleksiv1.RecordResultsRequest).GetRequestId(), "-1")
	for _, want := range []string{"batch 2 of 3 (lines 12-21) failed; 10 of 25 rows were recorded", "--request-id " + base} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
		}
	}
	res = runCLI(t, addr, nil, append(args, "--request-id", base)...)
	if res.code != ExitOK {
		t.Fatalf("resume: exit %d: %s", res.code, res.stderr)
	}
	var ids []string
	for _, c := range rec.Calls()[len(first):] {
		ids = append(ids, c.req.(*seleksiv1.RecordResultsRequest).GetRequestId())
	}
	if want := []string{base + "-1", base + "-2", base + "-3"}; fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Errorf("resumed with %v, want %v", ids, want)
	}
}

func TestResultsRecordDryRunSendsNothing(t *testing.T) {
	rec, addr := fakeServer(t)
	res := runCLI(t, addr, nil, "results", "record", "s-one", "--stage", "competency-test", "--csv", "testdata/scores.csv", "--dry-run")
	if res.code != ExitOK || !strings.Contains(res.stdout, "4 rows are valid") {
		t.Errorf("exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
	if len(rec.Calls()) != 0 {
		t.Error("dry run sent calls")
	}
}

func TestProgressBarOnATerminal(t *testing.T) {
	var b strings.Builder
	p := newProgress(&b, true, 4)
	p.set(2)
	p.set(4)
	p.done("4 rows")
	out := b.String()
	for _, want := range []string{"\r[" + strings.Repeat("-", progressWidth) + "] 0/4 rows", "2/4 rows  50%", "4/4 rows 100%", "\nrecorded 4 rows\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress output lacks %q: %q", want, out)
		}
	}
}

// TestResultsRecordSendsACorrection: --correction replaces recorded results with a reason,
// on every batch; without a reason it is a usage error and nothing is sent.
func TestResultsRecordSendsACorrection(t *testing.T) {
	rec, addr := fakeServer(t)
	const reason = "Nilai makalah salah ketik"
	res := runCLI(t, addr, nil, "results", "record", "s-one", "--stage", "competency-test",
		"--csv", filepath.Join("testdata", "scores-correction.csv"), "--correction", reason)
	if res.code != ExitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	req := rec.Calls()[0].req.(*seleksiv1.RecordResultsRequest)
	if !req.GetCorrection() || req.GetCorrectionReason() != reason || len(req.GetResults()) != 1 ||
		req.GetResults()[0].GetApplication() != "selections/s-one/applications/agus-pratama" {
		t.Fatalf("request %v", req)
	}
	rec, addr = fakeServer(t)
	res = runCLI(t, addr, nil, "results", "record", "s-one", "--stage", "competency-test",
		"--csv", filepath.Join("testdata", "scores-correction.csv"), "--correction", " ")
	if res.code != ExitUsage || len(rec.Calls()) != 0 || !strings.Contains(res.stderr, "--correction") {
		t.Fatalf("a correction without a reason: exit %d, %d calls, stderr %s", res.code, len(rec.Calls()), res.stderr)
	}
	res = runCLI(t, addr, nil, "results", "record", "s-one", "--stage", "competency-test", "--csv", bigSheet(t, 2))
	if res.code != ExitOK || rec.Calls()[0].req.(*seleksiv1.RecordResultsRequest).GetCorrection() {
		t.Fatalf("a plain sheet was sent as a correction (exit %d)", res.code)
	}
	help := runCLI(t, addr, nil, "help", "results", "record")
	if !strings.Contains(help.stdout+help.stderr, "--correction") {
		t.Errorf("help does not document --correction:\n%s%s", help.stdout, help.stderr)
	}
}

func TestResultsRecordPerItemSheet(t *testing.T) {
	rec, addr := fakeServer(t)
	res := runCLI(t, addr, nil, "results", "record", "s-one", "--stage", "administrative-screening", "--csv", "testdata/screening-items.csv")
	if res.code != ExitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	calls := rec.Calls()
	if len(calls) != 1 {
		t.Fatalf("%d calls", len(calls))
	}
	req := calls[0].req.(*seleksiv1.RecordResultsRequest)
	want := []*seleksiv1.ApplicationResult{
		{Application: "selections/s-one/applications/a-one", Items: []*seleksiv1.RequirementVerdict{
			{Item: "pakta-integritas", Met: true}, {Item: "education", Met: true, Note: "Ijazah S2 diperiksa pada berkas asli"}}},
		{Application: "selections/s-one/applications/a-two", Items: []*seleksiv1.RequirementVerdict{
			{Item: "pakta-integritas", Met: true}, {Item: "document:lhkpn", Note: "LHKPN tahun 2019; yang terbaru tidak dilampirkan"}}},
	}
	if req.GetStage() != seleksiv1.Stage_STAGE_ADMINISTRATIVE_SCREENING || len(req.GetResults()) != len(want) {
		t.Fatalf("request %v", req)
	}
	for i := range want {
		if !proto.Equal(req.GetResults()[i], want[i]) {
			t.Errorf("result %d = %v, want %v", i+1, req.GetResults()[i], want[i])
		}
	}
}

func TestResultsRecordPerItemSheetErrors(t *testing.T) {
	tests := []struct {
		name, stage, sheet string
		want               []string
	}{
		{"bad rows", "administrative-screening", "application,item,met,note\n" +
			"a-one,age,yes,\n" + // 2: fine
			"a-one,age,no,x\n" + // 3: the same item twice
			"a-two,,yes,\n" + // 4: no item
			"a-three,age,maybe,\n" + // 5: not yes or no
			"a-four,umur anda,yes,\n" + // 6: not an item ID
			"a-five,age,,\n", // 7: empty verdict
			[]string{"items.csv:3: item age of selections/s-one/applications/a-one is also on line 2", "items.csv:4: item is empty",
				`items.csv:5: met: "maybe" is neither yes nor no`, "items.csv:6:", "items.csv:7: met: empty", "5 problem(s); nothing was sent"}},
		{"mixed columns", "administrative-screening", "application,item,met,outcome\na-one,age,yes,pass\n",
			[]string{`column "outcome" does not go with item, met and note`}},
		{"no met column", "administrative-screening", "application,item\na-one,age\n", []string{`a per-item sheet needs the "met" column`}},
		{"other stage", "interview", "application,item,met\na-one,age,yes\n", []string{"per-item verdicts are for administrative-screening, not interview"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, addr := fakeServer(t)
			p := filepath.Join(t.TempDir(), "items.csv")
			if err := os.WriteFile(p, []byte(tt.sheet), 0o600); err != nil {
				t.Fatal(err)
			}
			res := runCLI(t, addr, nil, "results", "record", "s-one", "--stage", tt.stage, "--csv", p)
			if res.code != ExitUsage {
				t.Errorf("exit %d, want %d: %s", res.code, ExitUsage, res.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, res.stderr)
				}
			}
			if n := len(rec.Calls()); n != 0 {
				t.Errorf("%d call(s) sent for an invalid sheet", n)
			}
		})
	}
}
