package cli

import (
	"flag"
	"fmt"
	"testing"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
)

func TestNames(t *testing.T) {
	tests := []struct {
		fn      func(string) (string, error)
		in      string
		want    string
		wantErr bool
	}{
		{selectionName, "s-one", "selections/s-one", false},
		{selectionName, "selections/s-one", "selections/s-one", false},
		{selectionName, "S1", "", true},
		{selectionName, "-ab", "", true},
		{selectionName, "selections/s-one/applications/a-one", "", true},
		{applicationName, "s-one/a-one", "selections/s-one/applications/a-one", false},
		{applicationName, "selections/s-one/applications/a-one", "selections/s-one/applications/a-one", false},
		{applicationName, "selections/s-one/objections/a-one", "", true},
		{applicationName, "a-one", "", true},
		{objectionParent, "s-one/-", "selections/s-one/applications/-", false},
		{objectionParent, "selections/s-one/applications/-", "selections/s-one/applications/-", false},
		{objectionParent, "s-one/a-one", "selections/s-one/applications/a-one", false},
		{objectionName, "s-one/a-one/o-one", "selections/s-one/applications/a-one/objections/o-one", false},
		{objectionName, "selections/s-one/applications/a-one/objections/interview", "selections/s-one/applications/a-one/objections/interview", false},
		{objectionName, "s-one/a-one", "", true},
		{func(s string) (string, error) { return applicationIn("selections/s-one", s) }, "a-one", "selections/s-one/applications/a-one", false},
		{func(s string) (string, error) { return applicationIn("selections/s-one", s) }, "selections/s-two/applications/a-one", "", true},
	}
	for _, tt := range tests {
		got, err := tt.fn(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("%q: got %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseStage(t *testing.T) {
	tests := []struct {
		in   string
		want seleksiv1.Stage
		ok   bool
	}{
		{"STAGE_INTERVIEW", seleksiv1.Stage_STAGE_INTERVIEW, true},
		{"interview", seleksiv1.Stage_STAGE_INTERVIEW, true},
		{"administrative-screening", seleksiv1.Stage_STAGE_ADMINISTRATIVE_SCREENING, true},
		{"Competency_Test", seleksiv1.Stage_STAGE_COMPETENCY_TEST, true},
		{"committee-decision", seleksiv1.Stage_STAGE_COMMITTEE_DECISION, true},
		{"unspecified", 0, false},
		{"STAGE_UNSPECIFIED", 0, false},
		{"", 0, false},
		{"wawancara", 0, false},
	}
	for _, tt := range tests {
		got, err := parseStage(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseStage(%q) = %v, %v", tt.in, got, err)
		}
		if tt.ok && stageSlug(got) != map[seleksiv1.Stage]string{
			seleksiv1.Stage_STAGE_INTERVIEW:                "interview",
			seleksiv1.Stage_STAGE_ADMINISTRATIVE_SCREENING: "administrative-screening",
			seleksiv1.Stage_STAGE_COMPETENCY_TEST:          "competency-test",
			seleksiv1.Stage_STAGE_COMMITTEE_DECISION:       "committee-decision",
		}[got] {
			t.Errorf("stageSlug(%v) = %q", got, stageSlug(got))
		}
	}
}

func TestParseInterspersed(t *testing.T) {
	tests := []struct {
		args      []string
		wantPos   string
		wantStage string
	}{
		{[]string{"s-one", "--stage", "x"}, "[s-one]", "x"},
		{[]string{"--stage", "x", "s-one"}, "[s-one]", "x"},
		{[]string{"s-one", "--stage=x", "a-one"}, "[s-one a-one]", "x"},
		{[]string{"--stage", "x", "--", "--not-a-flag"}, "[--not-a-flag]", "x"},
		{nil, "[]", ""},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		stage := fs.String("stage", "", "")
		pos, err := parseInterspersed(fs, tt.args)
		if err != nil || fmt.Sprint(pos) != tt.wantPos || *stage != tt.wantStage {
			t.Errorf("%q: positional %v, stage %q, err %v", tt.args, pos, *stage, err)
		}
	}
}

func TestNewRequestID(t *testing.T) {
	id := newRequestID()
	if !validRequestID(id) || !validRequestID(id+"-1000") {
		t.Errorf("request id %q (or its batch form) is not valid", id)
	}
	for _, bad := range []string{"short", "has space in it", "ümlaut-ümlaut", string(make([]byte, 65))} {
		if validRequestID(bad) {
			t.Errorf("validRequestID(%q) = true", bad)
		}
	}
}
