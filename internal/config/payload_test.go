package config

import (
	"io"
	"slices"
	"strings"
	"testing"
)

// TestPayloadCodecFlags: payload encryption is on by default with the data directory's key
// file; the keys, the encrypting key and the Web UI origins come from flags or the
// environment, and malformed ones are refused at start.
func TestPayloadCodecFlags(t *testing.T) {
	noEnv := func(string) string { return "" }
	c, err := Parse(nil, noEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.PayloadCodec.Keys.Keys != "" || c.PayloadCodec.Keys.ActiveKeyID != "" || len(c.PayloadCodec.CORSOrigins) != 0 {
		t.Errorf("default %+v, want the data directory's key file and no origins", c.PayloadCodec)
	}
	env := map[string]string{
		"SELEKSI_PAYLOAD_KEYS":       "/run/secrets/payload",
		"SELEKSI_PAYLOAD_KEY_ID":     "20261201-a1b2c3d4",
		"SELEKSI_CODEC_CORS_ORIGINS": "https://temporal-ui.example.go.id/, http://localhost:8233",
	}
	c, err = Parse(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	p := c.PayloadCodec
	if p.Keys.Keys != "/run/secrets/payload" || p.Keys.ActiveKeyID != "20261201-a1b2c3d4" ||
		!slices.Equal(p.CORSOrigins, []string{"https://temporal-ui.example.go.id", "http://localhost:8233"}) {
		t.Errorf("from the environment: %+v", p)
	}
	c, err = Parse([]string{"-payload-keys", "/etc/seleksi/payload.keys"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil || c.PayloadCodec.Keys.Keys != "/etc/seleksi/payload.keys" {
		t.Errorf("the flag over the environment: %+v %v", c.PayloadCodec, err)
	}
	for _, tc := range []struct{ args []string }{
		{[]string{"-payload-key-id", "../k"}},
		{[]string{"-codec-cors-origins", "temporal-ui.example.go.id"}},
		{[]string{"-codec-cors-origins", "https://ui.example/path"}},
		{[]string{"-codec-cors-origins", "ftp://ui.example"}},
	} {
		if _, err := Parse(tc.args, noEnv, io.Discard); err == nil || !strings.Contains(err.Error(), tc.args[0]) {
			t.Errorf("%v: error %v, want one naming %s", tc.args, err, tc.args[0])
		}
	}
}
