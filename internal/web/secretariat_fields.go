package web

import (
	"strings"
	"unicode"
)

// The secretariat's and the auditor's forms are long; their inputs are written through two
// small partials (templates/secretariat/fields.html is parsed with every page of the area)
// fed by these view methods, so that every input gets its label, hint, posted value, error
// and ARIA attributes the same way.

// secInput is one input of a form as its partial renders it.
type secInput struct {
	V view
	// Name is the input's name and id, equal to the form key its API field violations map
	// to (see secFormKey).
	Name, Label, Type, Hint, Value, Error string
	Min, Max, Step                        string
	// List is the id of a <datalist> of suggestions.
	List     string
	Required bool
	// Options of a select: the enum values, named by OptPrefix+"."+value.
	Options   []string
	OptPrefix string
}

// SecField is a text-like input: name, label code, type, then options as "hint=code",
// "min=1", "max=9", "step=any", "list=datalist-id", "req", "value=default" (the default when
// nothing was posted).
func (v view) SecField(name, label, typ string, opts ...string) secInput {
	in := secInput{V: v, Name: name, Label: label, Type: typ, Error: v.Err(name)}
	def := ""
	for _, o := range opts {
		k, val, _ := strings.Cut(o, "=")
		switch k {
		case "hint":
			in.Hint = val
		case "min":
			in.Min = val
		case "max":
			in.Max = val
		case "step":
			in.Step = val
		case "list":
			in.List = val
		case "req":
			in.Required = true
		case "value":
			def = val
		}
	}
	in.Value = def
	if v.Form != nil {
		in.Value = v.Form.Get(name)
	}
	return in
}

// SecSelect is a select of enum values named by prefix.VALUE texts; the first value is the
// default when nothing was posted. opts as for SecField ("hint=code", "req").
func (v view) SecSelect(name, label, prefix string, values []string, opts ...string) secInput {
	in := v.SecField(name, label, "select", opts...)
	in.Options, in.OptPrefix = values, prefix
	if v.Form == nil && len(values) > 0 && in.Value == "" {
		in.Value = values[0]
	}
	return in
}

// Checked says whether a checkbox was posted checked (or, before any post, whether def is
// "on").
func (v view) Checked(name, def string) bool {
	if v.Form == nil {
		return def == "on"
	}
	return v.Form.Get(name) != ""
}

// HasValue says whether value is among the posted values of a multi-valued input (or, before
// any post, among defaults).
func (v view) HasValue(name, value string, defaults ...string) bool {
	vals := defaults
	if v.Form != nil {
		vals = v.Form[name]
	}
	for _, x := range vals {
		if x == value {
			return true
		}
	}
	return false
}

// secFormKey is the form key (an input's name and id) of an API field violation: the
// selection's fields without the "selection." prefix, proto names (the plan check names its
// fields as REST clients send them, in camelCase), with indexes and nesting written with
// hyphens, which are safe in ids and CSS selectors: "selection.committee[2].member_id" is
// "committee-2-member_id".
func secFormKey(field string) string {
	f := strings.TrimPrefix(field, "selection.")
	var b strings.Builder
	for i, r := range f {
		switch {
		case r == '[' || r == '.':
			b.WriteByte('-')
		case r == ']':
		case unicode.IsUpper(r):
			if i > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// secErrors are an API answer's field violations by form key. remap renames the keys of
// rows the form compacted before sending ("committee-1" was the form's row 3); collapse
// turns every key under a prefix into the prefix (the rows of a textarea).
func secErrors(err error, remap map[string]string, collapse ...string) map[string]string {
	out := map[string]string{}
	for field, msg := range fieldErrors(err) {
		k := secFormKey(field)
		for from, to := range remap {
			if k == from || strings.HasPrefix(k, from+"-") {
				k = to + strings.TrimPrefix(k, from)
				break
			}
		}
		for _, c := range collapse {
			if strings.HasPrefix(k, c+"-") {
				k = c
			}
		}
		if _, seen := out[k]; !seen {
			out[k] = msg
		}
	}
	return out
}

// postedRequestID keeps the request_id a form was rendered with, so that a re-rendered form
// (after a field error) and a double submit carry the same key; a missing or malformed one
// gets a fresh key.
func postedRequestID(posted string) string {
	if len(posted) >= 8 && len(posted) <= 64 && strings.Trim(posted, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == "" {
		return posted
	}
	return commandRequestID()
}
