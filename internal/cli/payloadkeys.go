package cli

import (
	"github.com/bkpsdm/seleksi/internal/audit"
	"github.com/bkpsdm/seleksi/internal/payloadcodec"
)

// payloadKeysUsage describes --payload-keys, which the offline audit commands share.
const payloadKeysUsage = "`PATH` of the payload keys the histories' payloads are encrypted with: the key file " +
	"(\"KEY_ID BASE64_KEY\" lines; the embedded default's is DATA_DIR/keys/" + payloadcodec.DefaultKeyFile +
	") or a directory of one file per key ID [SELEKSI_PAYLOAD_KEYS]"

// payloadKeyOptions are the audit options that decrypt the histories with the keys at path
// (or, when path is empty, at SELEKSI_PAYLOAD_KEYS); none when neither is given, which
// reads histories in clear and reports encrypted ones as needing the keys.
func payloadKeyOptions(inv *invocation, path string) ([]audit.Option, error) {
	if path == "" {
		path = inv.app.getenv("SELEKSI_PAYLOAD_KEYS")
	}
	if path == "" {
		return nil, nil
	}
	keys, err := payloadcodec.Load(path)
	if err != nil {
		return nil, usageErrorf("--payload-keys: %v", err)
	}
	c, err := payloadcodec.New(keys, "")
	if err != nil {
		return nil, usageErrorf("--payload-keys: %v", err)
	}
	return []audit.Option{audit.WithPayloadCodec(c)}, nil
}
