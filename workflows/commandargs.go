package workflows

import (
	"encoding/json"
	"fmt"
)

// CommandArgs is the argument of the command a record applies, typed: exactly one field is
// set, the one of the record's Kind, and none for the transitions the workflow makes on its
// own. It encodes as that argument alone, the JSON records have always carried, so recorded
// histories decode into it and the audit payload digests of recorded commands stay what
// they were.
type CommandArgs struct {
	Withdraw        *WithdrawArgs
	RecordResults   *RecordResultsArgs
	DeclareConflict *DeclareConflictArgs
	Advance         *AdvanceArgs
	Decide          *DecideArgs
	Appoint         *AppointArgs
	Cancel          *CancelArgs
	FileObjection   *FileObjectionArgs
	AnswerObjection *AnswerObjectionArgs
	SupplyHolidays  *SupplyHolidaysArgs
	// RecordCorrection is a recordResults correction with the results it replaced; such a
	// record also sets RecordResults to the command as received.
	RecordCorrection *RecordCorrectionRecord
	CorrectResult    *CorrectResultRecord
	Resume           *ResumeArgs
	RecordAbsence    *RecordAbsenceArgs

	// raw is the JSON the arguments were decoded from, kept so that the audit payload of a
	// recorded command is the recorded JSON even if the argument types have gained fields
	// since.
	raw json.RawMessage
}

// value is the one argument set, or nil.
func (a CommandArgs) value() any {
	switch {
	case a.RecordCorrection != nil:
		return a.RecordCorrection
	case a.CorrectResult != nil:
		return a.CorrectResult
	case a.Resume != nil:
		return a.Resume
	case a.Withdraw != nil:
		return a.Withdraw
	case a.RecordResults != nil:
		return a.RecordResults
	case a.DeclareConflict != nil:
		return a.DeclareConflict
	case a.Advance != nil:
		return a.Advance
	case a.Decide != nil:
		return a.Decide
	case a.Appoint != nil:
		return a.Appoint
	case a.Cancel != nil:
		return a.Cancel
	case a.FileObjection != nil:
		return a.FileObjection
	case a.AnswerObjection != nil:
		return a.AnswerObjection
	case a.SupplyHolidays != nil:
		return a.SupplyHolidays
	case a.RecordAbsence != nil:
		return a.RecordAbsence
	}
	return nil
}

// Received is the argument as the caller sent it, for the records whose argument adds what
// the command replaced (corrections); nil when it is the argument itself.
func (a CommandArgs) Received() any {
	switch {
	case a.RecordCorrection != nil:
		return &a.RecordCorrection.RecordResultsArgs
	case a.CorrectResult != nil:
		return &a.CorrectResult.CorrectResultArgs
	}
	return nil
}

// IsZero reports that no argument is set (a transition of the workflow's own).
func (a CommandArgs) IsZero() bool { return a.value() == nil && len(a.raw) == 0 }

// MarshalJSON encodes the argument that is set, or null.
func (a CommandArgs) MarshalJSON() ([]byte, error) { return json.Marshal(a.value()) }

// Payload is the arguments as the audit log keeps them: the JSON they were decoded from, or
// their encoding when they were built in this process.
func (a CommandArgs) Payload() (json.RawMessage, error) {
	if len(a.raw) > 0 {
		return a.raw, nil
	}
	return json.Marshal(a.value())
}

// decodeArgs decodes a record's arguments by its kind. Arguments of a kind that takes none
// are kept as they are (for the payload) without a typed value.
func decodeArgs(kind string, raw json.RawMessage) (CommandArgs, error) {
	a := CommandArgs{}
	if len(raw) == 0 || string(raw) == "null" {
		return a, nil
	}
	a.raw = raw
	var dst any
	switch kind {
	case CmdWithdraw:
		a.Withdraw = new(WithdrawArgs)
		dst = a.Withdraw
	case CmdRecordResults:
		var probe struct {
			Replaced json.RawMessage `json:"replaced"`
		}
		if err := json.Unmarshal(raw, &probe); err != nil {
			return CommandArgs{}, fmt.Errorf("%s arguments: %w", kind, err)
		}
		if probe.Replaced != nil {
			a.RecordCorrection = new(RecordCorrectionRecord)
			if err := json.Unmarshal(raw, a.RecordCorrection); err != nil {
				return CommandArgs{}, fmt.Errorf("%s arguments: %w", kind, err)
			}
			a.RecordResults = &a.RecordCorrection.RecordResultsArgs
			return a, nil
		}
		a.RecordResults = new(RecordResultsArgs)
		dst = a.RecordResults
	case CmdCorrectResult:
		a.CorrectResult = new(CorrectResultRecord)
		dst = a.CorrectResult
	case CmdResume:
		a.Resume = new(ResumeArgs)
		dst = a.Resume
	case CmdDeclareConflict:
		a.DeclareConflict = new(DeclareConflictArgs)
		dst = a.DeclareConflict
	case CmdAdvance:
		a.Advance = new(AdvanceArgs)
		dst = a.Advance
	case CmdDecide:
		a.Decide = new(DecideArgs)
		dst = a.Decide
	case CmdAppoint:
		a.Appoint = new(AppointArgs)
		dst = a.Appoint
	case CmdCancel:
		a.Cancel = new(CancelArgs)
		dst = a.Cancel
	case CmdFileObjection:
		a.FileObjection = new(FileObjectionArgs)
		dst = a.FileObjection
	case CmdAnswerObjection:
		a.AnswerObjection = new(AnswerObjectionArgs)
		dst = a.AnswerObjection
	case CmdSupplyHolidays:
		a.SupplyHolidays = new(SupplyHolidaysArgs)
		dst = a.SupplyHolidays
	case CmdRecordAbsence:
		a.RecordAbsence = new(RecordAbsenceArgs)
		dst = a.RecordAbsence
	default:
		return a, nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return CommandArgs{}, fmt.Errorf("%s arguments: %w", kind, err)
	}
	return a, nil
}

// UnmarshalJSON decodes a record, its arguments typed by its Kind.
func (r *CommandRecord) UnmarshalJSON(b []byte) error {
	type plain CommandRecord
	var aux struct {
		plain
		// Args shadows plain.Args: it is decoded once Kind is known.
		Args json.RawMessage `json:"args,omitempty"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	args, err := decodeArgs(aux.Kind, aux.Args)
	if err != nil {
		return err
	}
	*r = CommandRecord(aux.plain)
	r.Args = args
	return nil
}
