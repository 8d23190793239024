package workflows

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.temporal.io/sdk/temporal"
)

// Message is what people are told, as a stable code with parameters. The workflow never
// renders text: the edges (API, pages, timeline, notifications) render the code in the
// reader's language from a catalog, so history, state and store rows stay the same when a
// wording is fixed. Words typed by people (a committee's reason, a candidate's objection)
// travel as parameters, verbatim.
//
// EN and ID are the rendered texts that histories and store rows written before codes were
// introduced carry; new messages leave them empty, and renderers use them only for a code
// the catalog does not know.
type Message struct {
	Code string `json:"code"`
	// Params are the named values the text needs.
	Params Params `json:"params,omitempty"`
	// Detail is a message this one embeds, such as the finding behind a rejection.
	Detail *Message `json:"detail,omitempty"`
	EN     string   `json:"en,omitempty"`
	ID     string   `json:"id,omitempty"`
}

// Param is one named parameter of a message.
type Param struct {
	Name  string
	Value string
}

// Params are a message's parameters, kept sorted by name. They are a slice rather than a
// map so that workflow state holds no maps (iteration order), and they travel as a JSON
// object with sorted keys so that a message encodes and digests the same on every replay.
type Params []Param

// Get is the value of the parameter name, or "".
func (p Params) Get(name string) string {
	if i, ok := slices.BinarySearchFunc(p, name, func(x Param, n string) int { return strings.Compare(x.Name, n) }); ok {
		return p[i].Value
	}
	return ""
}

// Set adds or replaces the parameter name, keeping the order.
func (p *Params) Set(name, value string) {
	i, ok := slices.BinarySearchFunc(*p, name, func(x Param, n string) int { return strings.Compare(x.Name, n) })
	if ok {
		(*p)[i].Value = value
		return
	}
	*p = slices.Insert(*p, i, Param{Name: name, Value: value})
}

// Map is the parameters as a map, for renderers at the edges.
func (p Params) Map() map[string]string {
	m := make(map[string]string, len(p))
	for _, x := range p {
		m[x.Name] = x.Value
	}
	return m
}

// MarshalJSON encodes the parameters as an object with sorted keys.
func (p Params) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, x := range p {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(x.Name)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(x.Value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON decodes an object of string values.
func (p *Params) UnmarshalJSON(data []byte) error {
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	out := make(Params, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, Param{Name: k, Value: m[k]})
	}
	*p = out
	return nil
}

// String is for logs and error strings only, never for people.
func (m Message) String() string {
	if m.EN != "" {
		return m.EN
	}
	return m.Code
}

// code builds a message from its code and name/value pairs of parameters.
func code(c string, kv ...string) Message {
	m := Message{Code: c}
	for i := 0; i+1 < len(kv); i += 2 {
		m.Params.Set(kv[i], kv[i+1])
	}
	return m
}

// with returns m embedding d as its detail.
func (m Message) with(d Message) Message {
	m.Detail = &d
	return m
}

// clone deep-copies m (see SelectionState.clone).
func (m Message) clone() Message {
	m.Params = slices.Clone(m.Params)
	if m.Detail != nil {
		d := m.Detail.clone()
		m.Detail = &d
	}
	return m
}

// cloneMessage deep-copies an optional message.
func cloneMessage(m *Message) *Message {
	if m == nil {
		return nil
	}
	c := m.clone()
	return &c
}

// msg formats the same arguments into both languages. It is the pre-code form, kept for
// the texts that selections started before message codes still record in their state (see
// legacyMessage and SelectionState.MessageCodes); every other message is a catalog code.
func msg(code, en, id string, args ...any) Message {
	return Message{Code: code, EN: fmt.Sprintf(en, args...), ID: fmt.Sprintf(id, args...)}
}

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

// rejectType is the rejection code (the error's type) of a message: a code from the catalog
// names it as its second part ("reject.wrong_stage.ended" is WrongStage), a calendar problem
// is an invalid argument, and a message from before the catalog carries the rejection code
// itself.
func rejectType(c string) string {
	if strings.HasPrefix(c, "calendar.") {
		// A calendar problem in a command's input (a holiday list, a date).
		return RejectInvalidArgument
	}
	rest, ok := strings.CutPrefix(c, "reject.")
	if !ok {
		return c
	}
	kind, _, _ := strings.Cut(rest, ".")
	switch kind {
	case "invalid_argument":
		return RejectInvalidArgument
	case "wrong_stage":
		return RejectWrongStage
	case "wrong_actor":
		return RejectWrongActor
	case "duplicate":
		return RejectDuplicate
	case "out_of_window":
		return RejectOutOfWindow
	case "not_found":
		return RejectNotFound
	case "incomplete":
		return RejectIncomplete
	case "calendar":
		return RejectCalendar
	case "unavailable":
		return RejectUnavailable
	case "inconsistent":
		return RejectInconsistent
	}
	return RejectInvalidArgument
}

func rejectMsg(code string, m Message) error {
	return temporal.NewApplicationErrorWithOptions(m.String(), code, temporal.ApplicationErrorOptions{
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
	if appErr.Details(&m) != nil || m.Code == "" {
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
