package accounts

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/i18n"
)

// NormalizeEmail trims and lower-cases an address, the form in which accounts are stored
// and looked up.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// validEmail normalises an address and checks that it is one plain address (no display
// name, no group, no line breaks).
func validEmail(raw string) (string, error) {
	email := NormalizeEmail(raw)
	switch {
	case email == "":
		return "", fieldError(FieldEmail, CodeRequired)
	case len(email) > MaxEmailLen:
		return "", fieldError(FieldEmail, CodeTooLong)
	case !utf8.ValidString(email) || strings.ContainsFunc(email, unicode.IsControl):
		return "", fieldError(FieldEmail, CodeInvalid)
	}
	a, err := mail.ParseAddress(email)
	// ParseAddress accepts "Name <a@b>" and quoted forms; only the bare address is taken.
	if err != nil || a.Name != "" || a.Address != email || !strings.Contains(email[strings.LastIndexByte(email, '@')+1:], ".") {
		return "", fieldError(FieldEmail, CodeInvalid)
	}
	return email, nil
}

// ValidNIP reports whether s is a NIP (Nomor Induk Pegawai): 18 digits, as the API's
// application profile requires.
func ValidNIP(s string) bool {
	if len(s) != 18 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validNIP trims an optional NIP and checks its form.
func validNIP(raw string) (string, error) {
	nip := strings.TrimSpace(raw)
	if nip != "" && !ValidNIP(nip) {
		return "", fieldError(FieldNIP, CodeInvalid)
	}
	return nip, nil
}

func validFullName(raw string) (string, error) {
	name := strings.TrimSpace(raw)
	switch {
	case name == "":
		return "", fieldError(FieldFullName, CodeRequired)
	case !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl):
		return "", fieldError(FieldFullName, CodeInvalid)
	case utf8.RuneCountInString(name) > MaxFullNameLen:
		return "", fieldError(FieldFullName, CodeTooLong)
	}
	return name, nil
}

func validLang(l i18n.Lang) (i18n.Lang, error) {
	switch l {
	case "":
		return i18n.ID, nil
	case i18n.ID, i18n.EN:
		return l, nil
	}
	return "", fieldError(FieldLang, CodeInvalid)
}

func validRole(r auth.Role) error {
	if _, err := auth.ParseRole(string(r)); err != nil {
		return fieldError(FieldRole, CodeInvalid)
	}
	return nil
}

// checkPassword applies the password rules: 10 to 256 characters, valid text, and not the
// account's own e-mail address or NIP (compared without case and surrounding spaces).
func checkPassword(pw, email, nip string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw) || strings.IndexByte(pw, 0) >= 0:
		return fieldError(FieldPassword, CodeInvalid)
	case n < MinPasswordLen:
		return fieldError(FieldPassword, CodeTooShort)
	case n > MaxPasswordLen:
		return fieldError(FieldPassword, CodeTooLong)
	}
	p := strings.ToLower(strings.TrimSpace(pw))
	switch {
	case email != "" && p == NormalizeEmail(email):
		return fieldError(FieldPassword, CodeSameAsEmail)
	case nip != "" && p == nip:
		return fieldError(FieldPassword, CodeSameAsNIP)
	}
	return nil
}
