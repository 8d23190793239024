// Package tusclient is a small client of the tus resumable upload protocol (1.0: creation,
// PATCH in chunks, HEAD for the offset), as Seleksi's upload routes speak it. It is written
// here rather than taken from a library because the protocol is a handful of requests and
// the Go tus clients are unmaintained; it needs nothing but net/http.
package tusclient

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Version is the protocol version spoken.
const Version = "1.0.0"

// DocumentHeader names the document a finished upload became (internal/documents).
const DocumentHeader = "Seleksi-Document"

// Client uploads files.
type Client struct {
	// HTTP is the client used; http.DefaultClient when nil.
	HTTP *http.Client
	// Token is the bearer token sent with every request.
	Token string
	// AcceptLanguage, when set, asks for error messages in that language.
	AcceptLanguage string
	// ChunkSize is the most bytes per PATCH (default 1 MiB).
	ChunkSize int64
	// Retries is how many failed requests in a row are tried again, after a broken
	// connection or a 5xx answer, before giving up (default 10).
	Retries int
	// Backoff is the first pause between retries, doubled up to 30 s (default 500 ms).
	Backoff time.Duration
}

// Error is an answer the server refused with: its status and body (the JSON form of a
// google.rpc.Status on Seleksi).
type Error struct {
	Status int
	Body   []byte
}

func (e *Error) Error() string {
	var st struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(e.Body, &st) == nil && st.Message != "" {
		return fmt.Sprintf("%s (HTTP %d)", st.Message, e.Status)
	}
	return fmt.Sprintf("HTTP %d: %s", e.Status, strings.TrimSpace(string(e.Body)))
}

// retryable reports whether trying again may help: a broken connection or a 5xx answer.
func retryable(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.Status >= 500 || e.Status == http.StatusLocked || e.Status == http.StatusTooManyRequests ||
			e.Status == http.StatusConflict // an offset that moved under us: HEAD tells the truth
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

func (c *Client) request(ctx context.Context, method, u string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Tus-Resumable", Version)
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if c.AcceptLanguage != "" {
		req.Header.Set("Accept-Language", c.AcceptLanguage)
	}
	return req, nil
}

func (c *Client) do(req *http.Request, want ...int) (*http.Response, []byte, error) {
	resp, err := c.http().Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, nil, err
	}
	for _, w := range want {
		if resp.StatusCode == w {
			return resp, body, nil
		}
	}
	return nil, nil, &Error{Status: resp.StatusCode, Body: body}
}

// Create creates an upload of size bytes at endpoint with the metadata, and returns its URL.
func (c *Client) Create(ctx context.Context, endpoint string, size int64, meta map[string]string) (string, error) {
	req, err := c.request(ctx, http.MethodPost, endpoint, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Upload-Length", strconv.FormatInt(size, 10))
	req.Header.Set("Upload-Metadata", encodeMetadata(meta))
	resp, _, err := c.do(req, http.StatusCreated)
	if err != nil {
		return "", fmt.Errorf("create upload: %w", err)
	}
	loc, err := req.URL.Parse(resp.Header.Get("Location"))
	if err != nil || resp.Header.Get("Location") == "" {
		return "", fmt.Errorf("create upload: no usable Location in the answer")
	}
	return loc.String(), nil
}

// encodeMetadata is the Upload-Metadata header: key and base64 value pairs.
func encodeMetadata(meta map[string]string) string {
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+" "+base64.StdEncoding.EncodeToString([]byte(meta[k])))
	}
	return strings.Join(parts, ",")
}

// Offset asks the server how many bytes of the upload it holds (HEAD).
func (c *Client) Offset(ctx context.Context, uploadURL string) (int64, error) {
	off, _, err := c.offset(ctx, uploadURL)
	return off, err
}

// offset is Offset with the document the upload became, when the server says it is done
// (Seleksi answers so for an upload whose last chunk's answer the client never received).
func (c *Client) offset(ctx context.Context, uploadURL string) (int64, string, error) {
	req, err := c.request(ctx, http.MethodHead, uploadURL, nil)
	if err != nil {
		return 0, "", err
	}
	resp, _, err := c.do(req, http.StatusOK, http.StatusNoContent)
	if err != nil {
		return 0, "", fmt.Errorf("upload offset: %w", err)
	}
	off, err := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
	return off, resp.Header.Get(DocumentHeader), err
}

// Finished is the answer to an upload's last chunk.
type Finished struct {
	// Document is the document the upload became, `documents/{id}`.
	Document string
	// Body is the answer's body (the document's description on Seleksi).
	Body []byte
}

// Send sends src (size bytes) to the upload from the offset the server holds, in chunks,
// resuming after broken connections: it asks for the offset again (HEAD) and goes on from
// there. progress, when set, is told the offset after each chunk.
func (c *Client) Send(ctx context.Context, uploadURL string, src io.ReaderAt, size int64, progress func(int64)) (Finished, error) {
	chunk := c.ChunkSize
	if chunk <= 0 {
		chunk = 1 << 20
	}
	retries := c.Retries
	if retries <= 0 {
		retries = 10
	}
	backoff := c.Backoff
	if backoff <= 0 {
		backoff = 500 * time.Millisecond
	}
	failures := 0
	retry := func(err error) error {
		failures++
		if failures > retries || !retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
		return nil
	}
	off, last := int64(-1), int64(-1)
	for {
		if off < 0 {
			o, doc, err := c.offset(ctx, uploadURL)
			if err != nil {
				if err := retry(err); err != nil {
					return Finished{}, err
				}
				continue
			}
			if o >= size && doc != "" {
				// The upload became a document; only the answer to its last chunk was lost.
				return Finished{Document: doc}, nil
			}
			if o > last && last >= 0 {
				// A chunk cut short still moved the upload on (a slow link and the server's
				// request timeout): that is progress, not a failure to count.
				failures = 0
			}
			off, last = o, o
		}
		n := min(chunk, size-off)
		req, err := c.request(ctx, http.MethodPatch, uploadURL, io.NewSectionReader(src, off, n))
		if err != nil {
			return Finished{}, err
		}
		req.ContentLength = n
		req.Header.Set("Content-Type", "application/offset+octet-stream")
		req.Header.Set("Upload-Offset", strconv.FormatInt(off, 10))
		resp, body, err := c.do(req, http.StatusNoContent, http.StatusOK)
		if err != nil {
			if err := retry(err); err != nil {
				return Finished{}, fmt.Errorf("upload chunk at %d: %w", off, err)
			}
			off = -1 // ask the server where to go on
			continue
		}
		failures, backoff = 0, c.Backoff
		if backoff <= 0 {
			backoff = 500 * time.Millisecond
		}
		next, err := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
		if err == nil && next == off && off >= size && resp.Header.Get(DocumentHeader) != "" {
			// Every byte was already there and the server finished the upload now (its
			// first finish had failed).
			return Finished{Document: resp.Header.Get(DocumentHeader), Body: bytes.Clone(body)}, nil
		}
		if err != nil || next <= off {
			return Finished{}, fmt.Errorf("upload chunk at %d: the server answered offset %q", off, resp.Header.Get("Upload-Offset"))
		}
		off, last = next, next
		if progress != nil {
			progress(off)
		}
		if off >= size {
			return Finished{Document: resp.Header.Get(DocumentHeader), Body: bytes.Clone(body)}, nil
		}
	}
}

// SameUpload reports whether u is an upload URL under endpoint (a state file's URL still
// belongs to the server it is used with).
func SameUpload(endpoint, u string) bool {
	e, err1 := url.Parse(endpoint)
	p, err2 := url.Parse(u)
	return err1 == nil && err2 == nil && e.Host == p.Host && strings.HasPrefix(p.Path, strings.TrimSuffix(e.Path, "/")+"/")
}
