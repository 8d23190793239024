package payloadcodec

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// KeysDir is the folder of the data directory that holds keys (internal/keys keeps its
// keys there too), and DefaultKeyFile the key file of the embedded default in it.
const (
	KeysDir        = "keys"
	DefaultKeyFile = "payload-aes256gcm.keys"
)

// Options say where the payload keys are.
type Options struct {
	// Keys is a key file or a key directory (see Load); empty is the embedded default:
	// DATA_DIR/keys/payload-aes256gcm.keys, created with one new key on first start.
	Keys string
	// ActiveKeyID names the key that encrypts; empty is the greatest key ID.
	ActiveKeyID string
}

// Open builds the codec the options describe. dataDir is used only when opts.Keys is
// empty.
func Open(opts Options, dataDir string, now func() time.Time) (*Codec, error) {
	var (
		keys []Key
		err  error
	)
	if opts.Keys == "" {
		keys, err = LoadOrCreate(dataDir, now)
	} else {
		keys, err = Load(opts.Keys)
	}
	if err != nil {
		return nil, err
	}
	return New(keys, opts.ActiveKeyID)
}

// DefaultPath is the key file of the embedded default in dataDir.
func DefaultPath(dataDir string) string { return filepath.Join(dataDir, KeysDir, DefaultKeyFile) }

// Load reads keys from path, which is either
//   - a directory holding one file per key, named by the key ID, whose content is the
//     32-byte key in base64 (the shape of a Kubernetes Secret mounted as a volume, one data
//     item per key; names starting with a dot are skipped), or
//   - a file of lines "KEY_ID BASE64_KEY", blank lines and lines starting with '#' ignored.
func Load(path string) ([]Key, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("payloadcodec: keys: %w", err)
	}
	if !fi.IsDir() {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("payloadcodec: keys: %w", err)
		}
		return parseKeyFile(path, b)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("payloadcodec: keys: %w", err)
	}
	var keys []Key
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		p := filepath.Join(path, name)
		// A mounted Secret's items are symbolic links into its "..data" folder.
		if fi, err := os.Stat(p); err != nil || fi.IsDir() {
			continue
		}
		if !ValidKeyID(name) {
			return nil, fmt.Errorf("payloadcodec: keys: %s: the file name is not a valid key ID", p)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("payloadcodec: keys: %w", err)
		}
		secret, err := parseSecret(b)
		if err != nil {
			return nil, fmt.Errorf("payloadcodec: keys: %s: %w", p, err)
		}
		keys = append(keys, Key{ID: name, Secret: secret})
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("payloadcodec: keys: %s holds no key", path)
	}
	return keys, nil
}

func parseKeyFile(path string, b []byte) ([]Key, error) {
	var keys []Key
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 || !ValidKeyID(fields[0]) {
			// The line may hold a key: never repeat it in an error.
			return nil, fmt.Errorf("payloadcodec: keys: %s line %d: want KEY_ID BASE64_KEY", path, n)
		}
		secret, err := parseSecret([]byte(fields[1]))
		if err != nil {
			return nil, fmt.Errorf("payloadcodec: keys: %s line %d (key %s): %w", path, n, fields[0], err)
		}
		keys = append(keys, Key{ID: fields[0], Secret: secret})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("payloadcodec: keys: %s: %w", path, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("payloadcodec: keys: %s holds no key", path)
	}
	return keys, nil
}

func parseSecret(b []byte) ([]byte, error) {
	s := strings.TrimSpace(string(b))
	secret, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		secret, err = base64.RawStdEncoding.DecodeString(s)
	}
	if err != nil || len(secret) != KeySize {
		return nil, fmt.Errorf("want a %d-byte key in base64", KeySize)
	}
	return secret, nil
}

// NewKeyID makes the ID of a key made at now: its UTC date and eight random hex digits, so
// that a later key sorts after an earlier one and two keys made the same day differ.
func NewKeyID(now time.Time) (string, error) {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("payloadcodec: key ID: %w", err)
	}
	return now.UTC().Format("20060102") + "-" + hex.EncodeToString(b), nil
}

// NewKeyLine makes a new key as a line of a key file ("KEY_ID BASE64_KEY").
func NewKeyLine(now time.Time) (string, error) {
	id, err := NewKeyID(now)
	if err != nil {
		return "", err
	}
	secret := make([]byte, KeySize)
	if _, err := rand.Read(secret); err != nil {
		return "", fmt.Errorf("payloadcodec: generate key: %w", err)
	}
	return id + " " + base64.StdEncoding.EncodeToString(secret), nil
}

// LoadOrCreate reads the embedded default's key file, DefaultPath(dataDir), creating it
// with one new key (mode 0600 in a 0700 folder) on first use. A file that exists but holds
// no valid key is an error, never replaced: what was encrypted with its keys would be lost.
func LoadOrCreate(dataDir string, now func() time.Time) ([]Key, error) {
	path := DefaultPath(dataDir)
	keys, err := Load(path)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return keys, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("payloadcodec: create key directory: %w", err)
	}
	line, err := NewKeyLine(now())
	if err != nil {
		return nil, err
	}
	content := "# Seleksi: AES-256-GCM keys of Temporal payloads, one \"KEY_ID BASE64_KEY\" a line.\n" +
		"# The greatest key ID encrypts, every key decrypts: add keys, never remove one that\n" +
		"# histories still need.\n" + line + "\n"
	// The file is written whole under a temporary name and then linked into place, which
	// fails if it exists: of two processes starting at once, one creates the file and the
	// other reads it, and neither ever reads it half written.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".payload-keys-*")
	if err != nil {
		return nil, fmt.Errorf("payloadcodec: create %s: %w", path, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.WriteString(content); err != nil {
		_ = tmp.Close()
		return nil, fmt.Errorf("payloadcodec: write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("payloadcodec: write %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("payloadcodec: create %s: %w", path, err)
	}
	return Load(path)
}
