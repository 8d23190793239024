package blob

import "log/slog"

// Secret is a credential. It prints, logs and marshals as "REDACTED", so a configuration
// dumped with %+v, slog or encoding/json never shows it; string(s) reads the value.
type Secret string

const redacted = "REDACTED"

// String implements fmt.Stringer.
func (s Secret) String() string { return redactedIfSet(s) }

// GoString implements fmt.GoStringer, for %#v.
func (s Secret) GoString() string { return `"` + redactedIfSet(s) + `"` }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redactedIfSet(s)) }

// MarshalText implements encoding.TextMarshaler, which encoding/json and YAML encoders use.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redactedIfSet(s)), nil }

// redactedIfSet shows whether a secret is set without showing it.
func redactedIfSet(s Secret) string {
	if s == "" {
		return ""
	}
	return redacted
}
