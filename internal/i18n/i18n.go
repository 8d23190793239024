// Package i18n owns the choice of language for what people read: Indonesian by default,
// English when the caller asks for it. Candidates and committees read Seleksi in Indonesian
// first; integrators and foreign observers may prefer English.
//
// It also owns the message catalog (Catalog): the workflow, its history and the store record
// what people are told as message codes with parameters, and only the edges (API, pages,
// timeline, notifications) render them here. A wording fix is an edit of messages/*.yaml
// and changes nothing that was recorded.
package i18n

import (
	"strconv"
	"strings"
)

// Lang is a supported language.
type Lang string

// Supported languages.
const (
	ID Lang = "id"
	EN Lang = "en"
)

// Text is one message in every supported language.
type Text struct {
	ID string
	EN string
}

// In returns the text in l, falling back to Indonesian.
func (t Text) In(l Lang) string {
	if l == EN && t.EN != "" {
		return t.EN
	}
	return t.ID
}

// Both is the Indonesian text followed by the English one, for places with no reader
// preference (logs read by people, notifications before a preference is known).
func (t Text) Both() string { return t.ID + " / " + t.EN }

// FromAcceptLanguage picks the supported language the header prefers most (RFC 9110
// quality values); Indonesian when the header is empty or names neither.
func FromAcceptLanguage(header string) Lang {
	best, bestQ := ID, -1.0
	for part := range strings.SplitSeq(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		var l Lang
		switch primary {
		case "id", "in": // "in" is the withdrawn ISO 639 code some old clients still send.
			l = ID
		case "en":
			l = EN
		default:
			continue
		}
		if q > bestQ && q > 0 {
			best, bestQ = l, q
		}
	}
	return best
}
