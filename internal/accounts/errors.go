package accounts

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/bkpsdm/seleksi/internal/i18n"
)

// Errors of the service, tested with errors.Is. Failures of the database are returned
// wrapped as the store reports them (store.IsUnavailable tells "try again later").
var (
	// ErrInvalidInput: a field is missing or malformed; the error is a *FieldError naming it.
	ErrInvalidInput = errors.New("invalid input")
	// ErrWeakPassword: the password breaks the password rules; also ErrInvalidInput, as a
	// *FieldError on the field "password".
	ErrWeakPassword = fmt.Errorf("weak password: %w", ErrInvalidInput)
	// ErrEmailTaken and ErrNIPTaken: another account has the address or NIP; a
	// *FieldError on "email" or "nip".
	ErrEmailTaken = errors.New("e-mail address already has an account")
	ErrNIPTaken   = errors.New("NIP already has an account")
	// ErrInvalidCredentials: unknown e-mail address or wrong password; which one is not told.
	ErrInvalidCredentials = errors.New("invalid e-mail address or password")
	// ErrNotConfirmed: the password is right but the address is not confirmed yet.
	ErrNotConfirmed = errors.New("e-mail address not confirmed")
	// ErrInvalidCode: no live code matched: wrong, expired, used, replaced by a newer one,
	// out of attempts, or none was sent to that address.
	ErrInvalidCode = errors.New("invalid or expired code")
	// ErrNotFound: the account (or, for seats, the selection or seat) does not exist.
	ErrNotFound = errors.New("not found")
	// ErrDisabled: the secretariat has disabled the account.
	ErrDisabled = errors.New("account disabled")
)

// LockedError says that the account is locked after too many failed sign-ins, until Until.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string {
	return "account locked after too many failed sign-ins until " + e.Until.UTC().Format(time.RFC3339)
}

// Fields and codes of a FieldError. The pages render FieldError.Message.
const (
	FieldFullName = "full_name"
	FieldNIP      = "nip"
	FieldEmail    = "email"
	FieldPassword = "password"
	FieldRole     = "role"
	FieldLang     = "lang"
	FieldAccount  = "account"
	FieldIssuer   = "issuer"
	FieldSubject  = "subject"

	CodeRequired     = "required"
	CodeInvalid      = "invalid"
	CodeTooShort     = "too_short"
	CodeTooLong      = "too_long"
	CodeTaken        = "taken"
	CodeSameAsEmail  = "same_as_email"
	CodeSameAsNIP    = "same_as_nip"
	CodeNotCommittee = "not_committee"
)

// Limits of the fields.
const (
	MinPasswordLen = 10  // characters
	MaxPasswordLen = 256 // characters
	MaxFullNameLen = 200 // characters
	MaxEmailLen    = 254 // bytes (RFC 5321)
)

// FieldError names the field a request got wrong and how (Code). It wraps ErrInvalidInput,
// ErrWeakPassword, ErrEmailTaken or ErrNIPTaken.
type FieldError struct {
	Field string
	Code  string
	err   error
}

func fieldError(field, code string) *FieldError {
	err := ErrInvalidInput
	switch {
	case field == FieldPassword:
		err = ErrWeakPassword
	case code == CodeTaken && field == FieldEmail:
		err = ErrEmailTaken
	case code == CodeTaken && field == FieldNIP:
		err = ErrNIPTaken
	}
	return &FieldError{Field: field, Code: code, err: err}
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Code + ": " + e.err.Error() }

func (e *FieldError) Unwrap() error {
	if e.err == nil {
		return ErrInvalidInput
	}
	return e.err
}

// Message is what to tell the person, as a message code of internal/i18n
// ("account.error.<field>.<code>") with the limits as parameters.
func (e *FieldError) Message() i18n.Msg {
	m := i18n.Msg{Code: "account.error." + e.Field + "." + e.Code}
	switch {
	case e.Field == FieldPassword && e.Code == CodeTooShort:
		m.Params = map[string]string{"min": strconv.Itoa(MinPasswordLen)}
	case e.Field == FieldPassword && e.Code == CodeTooLong:
		m.Params = map[string]string{"max": strconv.Itoa(MaxPasswordLen)}
	case e.Field == FieldFullName && e.Code == CodeTooLong:
		m.Params = map[string]string{"max": strconv.Itoa(MaxFullNameLen)}
	case e.Field == FieldEmail && e.Code == CodeTooLong:
		m.Params = map[string]string{"max": strconv.Itoa(MaxEmailLen)}
	}
	return m
}

// Message codes of the notices that carry codes; their parameters are "code" and
// "minutes" (how long the code is valid).
const (
	MsgConfirmCode     = "account.confirm_code"
	MsgResetCode       = "account.reset_code"
	MsgSetPasswordCode = "account.set_password_code"
)

// Codes lists every message code the package produces, with example parameters, for the
// catalog's tests.
func Codes() []i18n.Msg {
	params := map[string]string{"code": "123456", "minutes": "30"}
	out := []i18n.Msg{{Code: MsgConfirmCode, Params: params}, {Code: MsgResetCode, Params: params}, {Code: MsgSetPasswordCode, Params: params}}
	for _, fe := range fieldErrors() {
		out = append(out, fe.Message())
	}
	return out
}

// fieldErrors is every FieldError the service returns to callers.
func fieldErrors() []*FieldError {
	pairs := [][2]string{
		{FieldFullName, CodeRequired}, {FieldFullName, CodeTooLong}, {FieldFullName, CodeInvalid},
		{FieldEmail, CodeRequired}, {FieldEmail, CodeInvalid}, {FieldEmail, CodeTooLong}, {FieldEmail, CodeTaken},
		{FieldNIP, CodeInvalid}, {FieldNIP, CodeTaken},
		{FieldPassword, CodeTooShort}, {FieldPassword, CodeTooLong}, {FieldPassword, CodeSameAsEmail}, {FieldPassword, CodeSameAsNIP},
		{FieldPassword, CodeInvalid},
		{FieldRole, CodeInvalid}, {FieldLang, CodeInvalid}, {FieldAccount, CodeNotCommittee},
		{FieldIssuer, CodeInvalid}, {FieldSubject, CodeRequired}, {FieldSubject, CodeInvalid},
	}
	out := make([]*FieldError, len(pairs))
	for i, p := range pairs {
		out[i] = fieldError(p[0], p[1])
	}
	return out
}
