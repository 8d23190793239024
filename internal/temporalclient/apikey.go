package temporalclient

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
)

// APIKeyFromFile gives the API key held in file (a mounted secret), read again when the file
// changes, so a rotated key is sent from the next call on. A file that cannot be read or is
// empty keeps the key read before; only when there never was one is it an error.
func APIKeyFromFile(file string) (func(context.Context) (string, error), error) {
	k := &apiKeyFile{file: file}
	if _, err := k.get(context.Background()); err != nil {
		return nil, err
	}
	return k.get, nil
}

type apiKeyFile struct {
	file string
	mu   sync.Mutex
	key  string
	fi   os.FileInfo
}

func (k *apiKeyFile) get(context.Context) (string, error) {
	fi, err := os.Stat(k.file)
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.key != "" && (err != nil || (os.SameFile(fi, k.fi) && fi.ModTime().Equal(k.fi.ModTime()) && fi.Size() == k.fi.Size())) {
		return k.key, nil
	}
	b, rerr := os.ReadFile(k.file)
	key := strings.TrimSpace(string(b))
	switch {
	case rerr == nil && key != "":
		k.key, k.fi = key, fi
	case k.key != "":
		// The middle of a replacement: keep the key until the file is whole again.
	case rerr != nil:
		return "", fmt.Errorf("temporalclient: API key file: %w", rerr)
	default:
		return "", errors.New("temporalclient: API key file " + k.file + " is empty")
	}
	return k.key, nil
}
