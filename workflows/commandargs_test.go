package workflows

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestCommandArgsTyped: a record's arguments travel as the argument alone (the JSON recorded
// histories carry) and come back typed by the record's kind; an argument JSON with fields the
// types no longer have is kept as recorded for the audit payload.
func TestCommandArgsTyped(t *testing.T) {
	actor := Actor{Subject: "chair", Role: RoleCommittee}
	tests := []struct {
		kind string
		args CommandArgs
		get  func(CommandArgs) any
	}{
		{CmdWithdraw, CommandArgs{Withdraw: &WithdrawArgs{Actor: actor, ApplicationID: "app-1"}}, func(a CommandArgs) any { return a.Withdraw }},
		{CmdRecordResults, CommandArgs{RecordResults: &RecordResultsArgs{Actor: actor, Stage: StageInterview,
			Results: []ResultInput{{ApplicationID: "app-1", Scores: []ComponentScore{{ComponentInterview, 8000}}}}}}, func(a CommandArgs) any { return a.RecordResults }},
		{CmdDeclareConflict, CommandArgs{DeclareConflict: &DeclareConflictArgs{Actor: actor, ApplicationIDs: []string{"app-1"}, Relationship: "ipar"}}, func(a CommandArgs) any { return a.DeclareConflict }},
		{CmdAdvance, CommandArgs{Advance: &AdvanceArgs{Actor: actor, Stage: StageInterview}}, func(a CommandArgs) any { return a.Advance }},
		{CmdDecide, CommandArgs{Decide: &DecideArgs{Actor: actor, Shortlist: []ShortlistInput{{"app-1", "terbaik"}}}}, func(a CommandArgs) any { return a.Decide }},
		{CmdAppoint, CommandArgs{Appoint: &AppointArgs{Actor: actor, ApplicationID: "app-1", PPKDecreeRef: "800/1/2026"}}, func(a CommandArgs) any { return a.Appoint }},
		{CmdCancel, CommandArgs{Cancel: &CancelArgs{Actor: actor, Reason: "anggaran"}}, func(a CommandArgs) any { return a.Cancel }},
		{CmdFileObjection, CommandArgs{FileObjection: &FileObjectionArgs{Actor: actor, ApplicationID: "app-1", Stage: StageInterview, Reason: "x"}}, func(a CommandArgs) any { return a.FileObjection }},
		{CmdAnswerObjection, CommandArgs{AnswerObjection: &AnswerObjectionArgs{Actor: actor, ObjectionID: "o", Accept: true}}, func(a CommandArgs) any { return a.AnswerObjection }},
		{CmdSupplyHolidays, CommandArgs{SupplyHolidays: &SupplyHolidaysArgs{Actor: actor, Reason: "SKB"}}, func(a CommandArgs) any { return a.SupplyHolidays }},
		{CmdRecordAbsence, CommandArgs{RecordAbsence: &RecordAbsenceArgs{Actor: actor, ApplicationID: "app-1", Stage: StageInterview, Note: "x"}}, func(a CommandArgs) any { return a.RecordAbsence }},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			b, err := json.Marshal(CommandRecord{Kind: tt.kind, Seq: 3, Args: tt.args})
			if err != nil {
				t.Fatal(err)
			}
			var shape struct{ Args json.RawMessage }
			if err := json.Unmarshal(b, &shape); err != nil {
				t.Fatal(err)
			}
			alone, err := json.Marshal(tt.get(tt.args))
			if err != nil {
				t.Fatal(err)
			}
			if string(shape.Args) != string(alone) {
				t.Errorf("args encode as %s, want the argument alone %s", shape.Args, alone)
			}
			var back CommandRecord
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if back.Seq != 3 || !reflect.DeepEqual(tt.get(back.Args), tt.get(tt.args)) {
				t.Errorf("decoded %+v, want %+v", tt.get(back.Args), tt.get(tt.args))
			}
			if p, err := back.Args.Payload(); err != nil || string(p) != string(alone) {
				t.Errorf("payload %s, %v", p, err)
			}
		})
	}

	// A transition of the workflow's own has no arguments, and encodes none.
	b, err := json.Marshal(CommandRecord{Kind: EvtStageOpened})
	if err != nil || strings.Contains(string(b), `"args"`) {
		t.Errorf("transition encodes %s, %v", b, err)
	}
	// Recorded arguments keep their JSON for the audit payload, fields unknown today included.
	recorded := `{"kind":"Cancel","args":{"actor":{"subject":"a","role":"ROLE_ADMIN"},"reason":"x","retired":"field"}}`
	var rec CommandRecord
	if err := json.Unmarshal([]byte(recorded), &rec); err != nil {
		t.Fatal(err)
	}
	if p, _ := rec.Args.Payload(); rec.Args.Cancel == nil || rec.Args.Cancel.Reason != "x" || !strings.Contains(string(p), `"retired":"field"`) {
		t.Errorf("recorded args decoded to %+v, payload %s", rec.Args.Cancel, p)
	}
	// Arguments that do not fit their kind are an error, not a silent zero value.
	if err := json.Unmarshal([]byte(`{"kind":"Cancel","args":{"reason":7}}`), &rec); err == nil {
		t.Error("malformed Cancel arguments decoded")
	}
}
