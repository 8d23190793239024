package config

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/bkpsdm/seleksi/internal/documents/blob"
)

// --- TLS (issue 14 §4) ---

// TLS is how seleksid's own servers (gRPC and HTTP) speak TLS. The files are read again
// when they change (internal/tlsconfig), so a renewed certificate needs no restart.
type TLS struct {
	// CertFile and KeyFile are the servers' certificate chain and key (PEM); empty serves
	// plain text (behind a proxy that terminates TLS).
	CertFile, KeyFile string
	// ClientCAFile makes the gRPC server require client certificates issued by these
	// authorities; empty requires none.
	ClientCAFile string
	// ClientAuthHTTP requires client certificates on the HTTP server too: only where its
	// sole caller is a proxy holding one, as browsers have none.
	ClientAuthHTTP bool
}

// Enabled reports whether the servers speak TLS.
func (t TLS) Enabled() bool { return t.CertFile != "" }

// TemporalTLS is how seleksid reaches an external Temporal cluster: TLS, mutual TLS, or an
// API key (hosted clusters such as Temporal Cloud, which take it over TLS).
type TemporalTLS struct {
	// Enabled uses TLS; it is implied by any of the other settings.
	Enabled bool
	// CAFile holds the authorities of the frontend's certificate; empty trusts the system's.
	CAFile string
	// CertFile and KeyFile are the client certificate (mutual TLS), read again when they change.
	CertFile, KeyFile string
	// ServerName is the name the frontend's certificate carries, when the address does not.
	ServerName string
	// APIKey comes from SELEKSI_TEMPORAL_API_KEY; APIKeyFile names a file that is read again
	// when it changes (a rotated key needs no restart). Never from a flag, which would show
	// it in the process list. At most one of them.
	APIKey     blob.Secret
	APIKeyFile string
}

// Secure reports whether people reach the service over TLS, so cookies must be Secure:
// through an https public URL, or because seleksid serves TLS itself.
func (c Config) Secure() bool { return c.Web.Secure() || c.TLS.Enabled() }

// tlsFlags registers the TLS flags of the servers and of the Temporal client, and returns
// the function that checks them after parsing, given the rest of the configuration.
func tlsFlags(fs *flag.FlagSet, env func(name, def string) string, getenv func(string) string) func(c Config) (TLS, TemporalTLS, error) {
	var s TLS
	var tc TemporalTLS
	fs.StringVar(&s.CertFile, "tls-cert-file", env("SELEKSI_TLS_CERT_FILE", ""),
		"PEM certificate chain of the gRPC and HTTP servers; with -tls-key-file both serve TLS only, and the files are read again when they change [SELEKSI_TLS_CERT_FILE]")
	fs.StringVar(&s.KeyFile, "tls-key-file", env("SELEKSI_TLS_KEY_FILE", ""),
		"PEM private key of -tls-cert-file [SELEKSI_TLS_KEY_FILE]")
	fs.StringVar(&s.ClientCAFile, "tls-client-ca-file", env("SELEKSI_TLS_CLIENT_CA_FILE", ""),
		"PEM authorities whose client certificates the gRPC server requires (mutual TLS); empty requires none [SELEKSI_TLS_CLIENT_CA_FILE]")
	authHTTP, authHTTPErr := strconv.ParseBool(env("SELEKSI_TLS_CLIENT_AUTH_HTTP", "false"))
	fs.BoolVar(&s.ClientAuthHTTP, "tls-client-auth-http", authHTTP && authHTTPErr == nil,
		"require client certificates of -tls-client-ca-file on the HTTP server too: only when a proxy holding one is its sole caller, as browsers have none [SELEKSI_TLS_CLIENT_AUTH_HTTP]")

	temporalTLS, temporalTLSErr := strconv.ParseBool(env("SELEKSI_TEMPORAL_TLS", "false"))
	fs.BoolVar(&tc.Enabled, "temporal-tls", temporalTLS && temporalTLSErr == nil,
		"reach the external Temporal frontend over TLS with the system's roots; implied by the other -temporal-tls-* flags and an API key [SELEKSI_TEMPORAL_TLS]")
	fs.StringVar(&tc.CAFile, "temporal-tls-ca-file", env("SELEKSI_TEMPORAL_TLS_CA_FILE", ""),
		"PEM authorities of the Temporal frontend's certificate; empty trusts the system's roots [SELEKSI_TEMPORAL_TLS_CA_FILE]")
	fs.StringVar(&tc.CertFile, "temporal-tls-cert-file", env("SELEKSI_TEMPORAL_TLS_CERT_FILE", ""),
		"PEM client certificate for mutual TLS with Temporal, read again when it changes [SELEKSI_TEMPORAL_TLS_CERT_FILE]")
	fs.StringVar(&tc.KeyFile, "temporal-tls-key-file", env("SELEKSI_TEMPORAL_TLS_KEY_FILE", ""),
		"PEM private key of -temporal-tls-cert-file [SELEKSI_TEMPORAL_TLS_KEY_FILE]")
	fs.StringVar(&tc.ServerName, "temporal-tls-server-name", env("SELEKSI_TEMPORAL_TLS_SERVER_NAME", ""),
		"name on the Temporal frontend's certificate, when -temporal-address does not carry it [SELEKSI_TEMPORAL_TLS_SERVER_NAME]")
	fs.StringVar(&tc.APIKeyFile, "temporal-api-key-file", env("SELEKSI_TEMPORAL_API_KEY_FILE", ""),
		"file holding the API key of a hosted Temporal cluster, read again when it changes; else the key is read from SELEKSI_TEMPORAL_API_KEY, never from a flag [SELEKSI_TEMPORAL_API_KEY_FILE]")

	return func(c Config) (TLS, TemporalTLS, error) {
		var errs []error
		if authHTTPErr != nil {
			errs = append(errs, errors.New("SELEKSI_TLS_CLIENT_AUTH_HTTP: want true or false"))
		}
		if temporalTLSErr != nil {
			errs = append(errs, errors.New("SELEKSI_TEMPORAL_TLS: want true or false"))
		}
		if (s.CertFile == "") != (s.KeyFile == "") {
			errs = append(errs, errors.New("-tls-cert-file and -tls-key-file: give both or neither"))
		}
		if s.ClientCAFile != "" && s.CertFile == "" {
			errs = append(errs, errors.New("-tls-client-ca-file needs -tls-cert-file and -tls-key-file"))
		}
		if s.ClientAuthHTTP && s.ClientCAFile == "" {
			errs = append(errs, errors.New("-tls-client-auth-http needs -tls-client-ca-file"))
		}
		if s.Enabled() && c.Web.PublicURL != nil && c.Web.PublicURL.Scheme != "https" {
			// Links in e-mails and the sign-in redirect would name a plain-text address the
			// servers no longer answer.
			errs = append(errs, fmt.Errorf("-tls-cert-file: -public-url %q must be an https URL when seleksid serves TLS", c.Web.PublicURL))
		}
		for _, f := range []struct{ flag, path string }{
			{"-tls-cert-file", s.CertFile}, {"-tls-key-file", s.KeyFile}, {"-tls-client-ca-file", s.ClientCAFile},
			{"-temporal-tls-ca-file", tc.CAFile}, {"-temporal-tls-cert-file", tc.CertFile}, {"-temporal-tls-key-file", tc.KeyFile},
			{"-temporal-api-key-file", tc.APIKeyFile},
		} {
			if f.path == "" {
				continue
			}
			if _, err := os.Stat(f.path); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", f.flag, err))
			}
		}

		envKey := strings.TrimSpace(getenv("SELEKSI_TEMPORAL_API_KEY"))
		switch {
		case envKey != "" && tc.APIKeyFile != "":
			errs = append(errs, errors.New("-temporal-api-key-file and SELEKSI_TEMPORAL_API_KEY: give one"))
		case envKey != "":
			tc.APIKey = blob.Secret(envKey)
		}
		if (tc.CertFile == "") != (tc.KeyFile == "") {
			errs = append(errs, errors.New("-temporal-tls-cert-file and -temporal-tls-key-file: give both or neither"))
		}
		if tc.CAFile != "" || tc.CertFile != "" || tc.KeyFile != "" || tc.ServerName != "" || tc.APIKey != "" || tc.APIKeyFile != "" {
			tc.Enabled = true
		}
		if tc.Enabled && c.Embedded() {
			errs = append(errs, errors.New("-temporal-tls and the other -temporal-tls-*/API key settings need -temporal-address (an external Temporal cluster)"))
		}
		if err := errors.Join(errs...); err != nil {
			return TLS{}, TemporalTLS{}, err
		}
		return s, tc, nil
	}
}
