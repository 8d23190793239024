package workflows

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
)

// Message is a text for people in English and Bahasa Indonesia, with a stable code for
// programs. Committees, candidates and the secretariat read these, so they say what is wrong
// and what to do, not how the code failed.
type Message struct {
	Code string `json:"code"`
	EN   string `json:"en"`
	ID   string `json:"id"`
}

func (m Message) String() string { return m.EN }

// msg formats the same arguments into both languages.
func msg(code, en, id string, args ...any) Message {
	return Message{Code: code, EN: fmt.Sprintf(en, args...), ID: fmt.Sprintf(id, args...)}
}

// bi builds a message from texts formatted separately, for when the languages need different
// arguments (names of stages, for example).
func bi(code, en, id string) *Message { return &Message{Code: code, EN: en, ID: id} }

// Rejection codes: the Type of the ApplicationError that a rejected update or an invalid input
// carries. The API maps them to its error codes; the Message in the error's details is what
// people see.
const (
	RejectInvalidArgument = "InvalidArgument"
	RejectWrongStage      = "WrongStage"
	RejectWrongActor      = "WrongActor"
	RejectDuplicate       = "Duplicate"
	RejectOutOfWindow     = "OutOfWindow"
	RejectNotFound        = "NotFound"
	RejectIncomplete      = "Incomplete"
	RejectCalendar        = "CalendarNotCovered"
	// RejectUnavailable: an accepted command could not be stored within its budget; it was
	// not applied and may be sent again.
	RejectUnavailable = "StoreUnavailable"
	// RejectInconsistent: an accepted command found the store inconsistent; it was not applied.
	RejectInconsistent = "StoreInconsistent"
	// InvalidInputType is the error type of a workflow that refused its input.
	InvalidInputType = "InvalidSelectionInput"
)

// reject builds the error a validator returns: non-retryable, its type the rejection code
// and its single detail the bilingual message.
func reject(code, en, id string, args ...any) error {
	return rejectMsg(code, msg(code, en, id, args...))
}

func rejectMsg(code string, m Message) error {
	return temporal.NewApplicationErrorWithOptions(m.EN, code, temporal.ApplicationErrorOptions{
		NonRetryable: true,
		Details:      []any{m},
	})
}

// MessageOf extracts the bilingual message from an error returned by a rejected update, a
// failed update or a workflow that refused its input, on the client or in tests. It returns
// false for errors that carry no message (such as infrastructure failures), which the API
// must not show to people verbatim.
func MessageOf(err error) (Message, bool) {
	var ie *InputError
	if errors.As(err, &ie) && len(ie.Problems) > 0 {
		return ie.Problems[0], true
	}
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !appErr.HasDetails() {
		return Message{}, false
	}
	var m Message
	if appErr.Details(&m) != nil || m.EN == "" {
		// An input error carries all its problems as a list.
		var ms []Message
		if appErr.Details(&ms) != nil || len(ms) == 0 {
			return Message{}, false
		}
		return ms[0], true
	}
	return m, true
}

// ProblemsOf extracts every problem from the error of a workflow that refused its input.
func ProblemsOf(err error) []Message {
	var ie *InputError
	if errors.As(err, &ie) {
		return ie.Problems
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() == InvalidInputType {
		var ms []Message
		if appErr.Details(&ms) == nil {
			return ms
		}
	}
	if m, ok := MessageOf(err); ok {
		return []Message{m}
	}
	return nil
}
