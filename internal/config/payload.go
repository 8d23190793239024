package config

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"strings"

	"github.com/bkpsdm/seleksi/internal/payloadcodec"
)

// PayloadCodec configures the encryption of Temporal payloads (issue 14 §3) and the codec
// endpoint Temporal's Web UI decodes them through.
type PayloadCodec struct {
	// Keys says where the AES-256-GCM keys are (payloadcodec.Options); the zero value is the
	// key file in the data directory, created on first start.
	Keys payloadcodec.Options
	// CORSOrigins are the origins (scheme://host:port) of the Temporal Web UIs whose pages
	// may call the codec endpoint from the browser.
	CORSOrigins []string
}

// payloadCodecFlags registers the payload encryption's flags and returns the function that
// checks them after parsing.
func payloadCodecFlags(fs *flag.FlagSet, env func(name, def string) string) func() (PayloadCodec, error) {
	var p PayloadCodec
	var origins string
	fs.StringVar(&p.Keys.Keys, "payload-keys", env("SELEKSI_PAYLOAD_KEYS", ""),
		"AES-256-GCM keys of Temporal payloads: a file of \"KEY_ID BASE64_KEY\" lines or a directory of files named by key ID holding the base64 key (a mounted Secret); empty: DATA_DIR/keys/"+
			payloadcodec.DefaultKeyFile+", created on first start [SELEKSI_PAYLOAD_KEYS]")
	fs.StringVar(&p.Keys.ActiveKeyID, "payload-key-id", env("SELEKSI_PAYLOAD_KEY_ID", ""),
		"ID of the payload key that encrypts; empty: the greatest key ID (every key decrypts) [SELEKSI_PAYLOAD_KEY_ID]")
	fs.StringVar(&origins, "codec-cors-origins", env("SELEKSI_CODEC_CORS_ORIGINS", ""),
		"comma-separated origins of Temporal Web UIs allowed to call the codec endpoint /codec/ from the browser, e.g. https://temporal-ui.example.go.id [SELEKSI_CODEC_CORS_ORIGINS]")
	return func() (PayloadCodec, error) {
		var errs []error
		if id := p.Keys.ActiveKeyID; id != "" && !payloadcodec.ValidKeyID(id) {
			errs = append(errs, fmt.Errorf("-payload-key-id %q: want 1 to 64 of A-Z a-z 0-9 . _ -", id))
		}
		for o := range strings.SplitSeq(origins, ",") {
			o = strings.TrimSpace(o)
			if o == "" {
				continue
			}
			u, err := url.Parse(o)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
				errs = append(errs, fmt.Errorf("-codec-cors-origins: %q is not an origin (scheme://host[:port])", o))
				continue
			}
			p.CORSOrigins = append(p.CORSOrigins, u.Scheme+"://"+u.Host)
		}
		return p, errors.Join(errs...)
	}
}
