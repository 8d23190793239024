// Package blobtest is the conformance suite every blob.Store backend passes: the same
// behaviour, key rules and failure guarantees on the filesystem and on S3, so the service
// never depends on which one a deployment chose.
package blobtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/documents/blob"
)

// Run runs the suite against s. Every subtest uses keys of its own, so s may be shared and
// need not be empty.
func Run(t *testing.T, s blob.Store) {
	t.Run("Check", func(t *testing.T) {
		if err := s.Check(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("RoundTrip", func(t *testing.T) { roundTrip(t, s) })
	t.Run("Missing", func(t *testing.T) { missing(t, s) })
	t.Run("ReplaceAndDelete", func(t *testing.T) { replaceAndDelete(t, s) })
	t.Run("InvalidKeys", func(t *testing.T) { invalidKeys(t, s) })
	t.Run("FailedPutLeavesNothing", func(t *testing.T) { failedPut(t, s) })
	t.Run("KeyPrefixIsNoObject", func(t *testing.T) { keyPrefix(t, s) })
	t.Run("Large", func(t *testing.T) { large(t, s) })
	t.Run("ConcurrentPutsOfOneKey", func(t *testing.T) { concurrentPuts(t, s) })
}

func roundTrip(t *testing.T, s blob.Store) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		size  int
		known bool
	}{
		{"empty", 0, true},
		{"empty-unknown-size", 0, false},
		{"one-byte", 1, true},
		{"kib", 1 << 10, true},
		{"mib-unknown-size", 1 << 20, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := "roundtrip/" + tc.name
			data := random(t, tc.size)
			size := int64(-1)
			if tc.known {
				size = int64(len(data))
			}
			before := time.Now().Add(-time.Minute)
			if err := s.Put(ctx, key, bytes.NewReader(data), size); err != nil {
				t.Fatalf("Put: %v", err)
			}
			info, err := s.Stat(ctx, key)
			if err != nil {
				t.Fatalf("Stat: %v", err)
			}
			if info.Key != key || info.Size != int64(len(data)) {
				t.Errorf("Stat = %+v, want key %s size %d", info, key, len(data))
			}
			// The server's clock may differ slightly; a minute of slack still catches a
			// zero or nonsensical time.
			if info.ModTime.Before(before) || info.ModTime.After(time.Now().Add(time.Minute)) {
				t.Errorf("ModTime %s is not about now", info.ModTime)
			}
			if got := read(t, s, key); !bytes.Equal(got, data) {
				t.Errorf("read %d bytes that differ from the %d put", len(got), len(data))
			}
		})
	}
}

func missing(t *testing.T, s blob.Store) {
	ctx := context.Background()
	const key = "missing/never-put"
	if _, err := s.Stat(ctx, key); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat of a missing key: %v, want ErrNotFound", err)
	}
	if r, err := s.Open(ctx, key); !errors.Is(err, blob.ErrNotFound) {
		if r != nil {
			_ = r.Close()
		}
		t.Errorf("Open of a missing key: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Errorf("Delete of a missing key: %v, want nil", err)
	}
}

func replaceAndDelete(t *testing.T, s blob.Store) {
	ctx := context.Background()
	const key = "replace/object"
	first, second := random(t, 300), random(t, 200)
	put(t, s, key, first)
	put(t, s, key, second)
	if got := read(t, s, key); !bytes.Equal(got, second) {
		t.Errorf("after a second Put read %d bytes, want the second object's %d", len(got), len(second))
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Stat(ctx, key); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat after Delete: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Errorf("second Delete: %v, want nil", err)
	}
}

// InvalidKeys are keys every backend refuses: they could escape a filesystem root, name the
// same object differently on two backends, or hide among the store's own files.
var InvalidKeys = []string{
	"",
	".",
	"..",
	"../escape",
	"a/../b",
	"a/./b",
	"a/..",
	"/absolute",
	"a/",
	"a//b",
	"Upper",
	"a/Upper",
	"with space",
	`back\slash`,
	".tmp/x",
	".hidden",
	"-dash-first",
	"a/-dash-first",
	"a/.dot-first",
	"ünicode",
	"nul\x00byte",
	"new\nline",
	strings.Repeat("a", 256),        // a segment longer than a file name may be
	"a/" + strings.Repeat("b", 256), // likewise, after the first segment
	strings.Repeat("a/", 256) + "a", // 513 bytes in all
	strings.Repeat(strings.Repeat("a", 255)+"/", 2) + "aa", // 514 bytes in all
}

func invalidKeys(t *testing.T, s blob.Store) {
	ctx := context.Background()
	for _, key := range InvalidKeys {
		t.Run(fmt.Sprintf("%.20q", key), func(t *testing.T) {
			if err := s.Put(ctx, key, strings.NewReader("x"), 1); !errors.Is(err, blob.ErrInvalidKey) {
				t.Errorf("Put: %v, want ErrInvalidKey", err)
			}
			if r, err := s.Open(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
				if r != nil {
					_ = r.Close()
				}
				t.Errorf("Open: %v, want ErrInvalidKey", err)
			}
			if _, err := s.Stat(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
				t.Errorf("Stat: %v, want ErrInvalidKey", err)
			}
			if err := s.Delete(ctx, key); !errors.Is(err, blob.ErrInvalidKey) {
				t.Errorf("Delete: %v, want ErrInvalidKey", err)
			}
		})
	}
	// The longest valid keys work, so the limits above are the key rule and not a backend's.
	for _, long := range []string{
		strings.Repeat("l", 255),
		strings.Repeat("m", 255) + "/" + strings.Repeat("n", 254) + "/o",
		strings.Repeat("p/", 255) + "pp",
	} {
		if len(long) > 512 {
			t.Fatalf("test key of %d bytes", len(long))
		}
		put(t, s, long, []byte("long key"))
		if got := read(t, s, long); string(got) != "long key" {
			t.Errorf("%d-byte key read %q", len(long), got)
		}
	}
}

// FailedPuts are Puts that must fail and leave nothing under their key. Each returns the
// context, reader and size to pass.
func FailedPuts(data []byte) []FailedPut {
	n := int64(len(data))
	return []FailedPut{
		{"reader error, size known", func() (context.Context, io.Reader, int64) {
			return context.Background(), failingReader(data[:n/2]), n
		}},
		{"reader error, size unknown", func() (context.Context, io.Reader, int64) {
			return context.Background(), failingReader(data[:n/2]), -1
		}},
		{"shorter than size", func() (context.Context, io.Reader, int64) {
			return context.Background(), bytes.NewReader(data[:n-1]), n
		}},
		{"longer than size", func() (context.Context, io.Reader, int64) {
			return context.Background(), bytes.NewReader(data), n - 1
		}},
		{"context cancelled before", func() (context.Context, io.Reader, int64) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, bytes.NewReader(data), n
		}},
		{"context cancelled midway", func() (context.Context, io.Reader, int64) {
			ctx, cancel := context.WithCancel(context.Background())
			return ctx, &cancelAfter{r: bytes.NewReader(data), n: n / 2, cancel: cancel}, -1
		}},
	}
}

// FailedPut is one way for a Put to fail.
type FailedPut struct {
	Name string
	Args func() (context.Context, io.Reader, int64)
}

func failedPut(t *testing.T, s blob.Store) {
	data := random(t, 64<<10)
	for i, f := range FailedPuts(data) {
		t.Run(f.Name, func(t *testing.T) {
			fresh := fmt.Sprintf("failed/fresh-%d", i)
			ctx, r, size := f.Args()
			if err := s.Put(ctx, fresh, r, size); err == nil {
				t.Fatal("Put succeeded")
			}
			if _, err := s.Stat(context.Background(), fresh); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("Stat after the failed Put: %v, want ErrNotFound", err)
			}
			// A failed replacement keeps the object that was there.
			existing := fmt.Sprintf("failed/existing-%d", i)
			old := random(t, 100)
			put(t, s, existing, old)
			ctx, r, size = f.Args()
			if err := s.Put(ctx, existing, r, size); err == nil {
				t.Fatal("replacing Put succeeded")
			}
			if got := read(t, s, existing); !bytes.Equal(got, old) {
				t.Errorf("after a failed replacement read %d bytes, want the old %d", len(got), len(old))
			}
		})
	}
}

func keyPrefix(t *testing.T, s blob.Store) {
	ctx := context.Background()
	put(t, s, "prefix/dir/object", []byte("inside"))
	for _, key := range []string{"prefix", "prefix/dir"} {
		if _, err := s.Stat(ctx, key); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Stat(%s), a prefix of a key: %v, want ErrNotFound", key, err)
		}
		if r, err := s.Open(ctx, key); !errors.Is(err, blob.ErrNotFound) {
			if r != nil {
				_ = r.Close()
			}
			t.Errorf("Open(%s), a prefix of a key: %v, want ErrNotFound", key, err)
		}
		if err := s.Delete(ctx, key); err != nil {
			t.Errorf("Delete(%s), a prefix of a key: %v, want nil", key, err)
		}
	}
	if got := read(t, s, "prefix/dir/object"); string(got) != "inside" {
		t.Errorf("after deleting its prefixes the object reads %q", got)
	}
}

// large puts objects above minio-go's 16 MiB part size, so S3 uploads go multipart.
func large(t *testing.T, s blob.Store) {
	ctx := context.Background()
	data := random(t, 20<<20)
	want := sha256.Sum256(data)
	for _, size := range []int64{-1, int64(len(data))} {
		t.Run(fmt.Sprintf("size=%d", size), func(t *testing.T) {
			key := fmt.Sprintf("large/size%d", size+1)
			start := time.Now()
			if err := s.Put(ctx, key, bytes.NewReader(data), size); err != nil {
				t.Fatalf("Put: %v", err)
			}
			elapsed := time.Since(start)
			r, err := s.Open(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			h := sha256.New()
			n, err := io.Copy(h, r)
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(len(data)) || !bytes.Equal(h.Sum(nil), want[:]) {
				t.Errorf("read %d bytes with another digest, want %d", n, len(data))
			}
			t.Logf("put 20 MiB in %s, read back in %s", elapsed.Round(time.Millisecond), (time.Since(start) - elapsed).Round(time.Millisecond))
		})
	}
}

// concurrentPuts writes different contents under one key at once while readers read it.
// Every read and the final object must be one whole version: never a mix, never partial.
func concurrentPuts(t *testing.T, s blob.Store) {
	ctx := context.Background()
	const key = "concurrent/object"
	const writers = 8
	versions := map[[32]byte]bool{}
	contents := make([][]byte, writers)
	for i := range contents {
		contents[i] = random(t, 256<<10+i)
		versions[sha256.Sum256(contents[i])] = true
	}
	done := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				r, err := s.Open(ctx, key)
				if errors.Is(err, blob.ErrNotFound) {
					continue
				}
				if err != nil {
					t.Errorf("Open during Puts: %v", err)
					return
				}
				got, err := io.ReadAll(r)
				_ = r.Close()
				if err != nil {
					t.Errorf("read during Puts: %v", err)
					return
				}
				if !versions[sha256.Sum256(got)] {
					t.Errorf("read %d bytes during Puts that are no version put", len(got))
					return
				}
			}
		})
	}
	var writersWG sync.WaitGroup
	for i, c := range contents {
		writersWG.Go(func() {
			size := int64(len(c))
			if i%2 == 1 {
				size = -1
			}
			if err := s.Put(ctx, key, bytes.NewReader(c), size); err != nil {
				t.Errorf("Put %d: %v", i, err)
			}
		})
	}
	writersWG.Wait()
	close(done)
	readers.Wait()
	if got := read(t, s, key); !versions[sha256.Sum256(got)] {
		t.Errorf("after concurrent Puts the object (%d bytes) is no version put", len(got))
	}
}

func put(t *testing.T, s blob.Store, key string, data []byte) {
	t.Helper()
	if err := s.Put(context.Background(), key, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("Put %s: %v", key, err)
	}
}

func read(t *testing.T, s blob.Store, key string) []byte {
	t.Helper()
	r, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("Open %s: %v", key, err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return got
}

func random(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// failingReader yields data and then an error, as an upload cut off midway.
func failingReader(data []byte) io.Reader {
	return io.MultiReader(bytes.NewReader(data), errReader{})
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset by test") }

// cancelAfter cancels its context once n bytes have been read, and keeps yielding data, so
// only the store's own attention to the context can stop the Put.
type cancelAfter struct {
	r      io.Reader
	n      int64
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	if c.n <= 0 {
		c.cancel()
	}
	if int64(len(p)) > c.n && c.n > 0 {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	c.n -= int64(n)
	return n, err
}
