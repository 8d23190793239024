package bodylimit

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
)

// countingReader counts what is read from it, to show an oversized body is not read.
type countingReader struct {
	r    io.Reader
	read int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += int64(n)
	return n, err
}

func (c *countingReader) Close() error { return nil }

// endless is a body that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

type statusJSON struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Details []struct {
		Type     string            `json:"@type"`
		Reason   string            `json:"reason"`
		Metadata map[string]string `json:"metadata"`
		Locale   string            `json:"locale"`
	} `json:"details"`
}

func TestMiddleware(t *testing.T) {
	policy := Policy{Default: 100, Routes: []Route{
		{Prefix: "/v1/documents/", MaxBytes: 1000},
		{Prefix: "/v1/documents/big/", MaxBytes: 5000, Stream: true},
	}}
	tests := []struct {
		name          string
		path          string
		body          string
		contentLength int64 // -1: unknown (chunked)
		lang          string
		wantCode      int
		wantBody      string // what the handler reads, when it runs
		wantMessage   string
	}{
		{name: "small body passes intact", path: "/v1/selections", body: `{"a":1}`, contentLength: 7, wantCode: 200, wantBody: `{"a":1}`},
		{name: "exactly the limit passes", path: "/v1/selections", body: strings.Repeat("x", 100), contentLength: -1, wantCode: 200, wantBody: strings.Repeat("x", 100)},
		{name: "declared too large: 413 in Indonesian", path: "/v1/selections", body: strings.Repeat("x", 101), contentLength: 101, wantCode: 413,
			wantMessage: "permintaan terlalu besar: paling banyak 100 bita"},
		{name: "chunked too large: 413 in English", path: "/v1/selections", body: strings.Repeat("x", 101), contentLength: -1, lang: "en", wantCode: 413,
			wantMessage: "the request is too large: at most 100 bytes"},
		{name: "a route's own limit", path: "/v1/documents/x", body: strings.Repeat("x", 900), contentLength: -1, wantCode: 200, wantBody: strings.Repeat("x", 900)},
		{name: "a route's own limit refuses past it", path: "/v1/documents/x", body: strings.Repeat("x", 1001), contentLength: -1, wantCode: 413},
		{name: "a streaming route's handler meets the limit while reading", path: "/v1/documents/big/1", body: strings.Repeat("x", 5001), contentLength: -1, wantCode: 413,
			wantMessage: "permintaan terlalu besar: paling banyak 5000 bita"},
		{name: "the longest prefix wins", path: "/v1/documents/big/1", body: strings.Repeat("x", 4000), contentLength: -1, wantCode: 200, wantBody: strings.Repeat("x", 4000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			ran := false
			h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ran = true
				b, err := io.ReadAll(r.Body)
				if err != nil {
					var tooLarge *http.MaxBytesError
					if errors.As(err, &tooLarge) {
						WriteTooLarge(w, r, tooLarge.Limit)
						return
					}
					t.Fatal(err)
				}
				got = string(b)
			}), policy)
			req := httptest.NewRequest(http.MethodPost, tt.path, strings.NewReader(tt.body))
			req.ContentLength = tt.contentLength
			if tt.lang != "" {
				req.Header.Set("Accept-Language", tt.lang)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantCode {
				t.Fatalf("code %d, want %d: %s", rec.Code, tt.wantCode, rec.Body)
			}
			if tt.wantCode == 200 {
				if got != tt.wantBody {
					t.Errorf("handler read %d bytes, want %d", len(got), len(tt.wantBody))
				}
				return
			}
			if ran && !strings.HasPrefix(tt.path, "/v1/documents/big/") {
				t.Error("the handler ran for an oversized body")
			}
			var st statusJSON
			if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
				t.Fatalf("not a google.rpc.Status: %v %s", err, rec.Body)
			}
			if st.Code != int(codes.ResourceExhausted) || (tt.wantMessage != "" && st.Message != tt.wantMessage) {
				t.Errorf("status %d %q", st.Code, st.Message)
			}
			reason := ""
			for _, d := range st.Details {
				reason += d.Reason
			}
			if reason != ReasonTooLarge {
				t.Errorf("no ErrorInfo %s in %s", ReasonTooLarge, rec.Body)
			}
		})
	}
}

// TestOversizedBodyIsNotRead: a declared size over the limit is refused unread, and an
// undeclared one is read no further than the limit, however much the client sends.
func TestOversizedBodyIsNotRead(t *testing.T) {
	h := Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("handler ran") }), Policy{Default: 1 << 20})

	declared := &countingReader{r: endless{}}
	req := httptest.NewRequest(http.MethodPost, "/v1/selections", nil)
	req.Body, req.ContentLength = declared, 100<<20
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || declared.read != 0 {
		t.Errorf("declared 100 MB: %d after reading %d bytes, want 413 after none", rec.Code, declared.read)
	}

	chunked := &countingReader{r: endless{}}
	req = httptest.NewRequest(http.MethodPost, "/v1/selections", nil)
	req.Body, req.ContentLength = chunked, -1
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || chunked.read > 1<<20+64<<10 {
		t.Errorf("endless body: %d after reading %d bytes, want 413 after about 1 MiB", rec.Code, chunked.read)
	}
}

// TestBodySpanningChunksArrivesIntact: a body read in several pooled chunks reaches the
// handler byte for byte, and the chunks are not reused while the handler reads.
func TestBodySpanningChunksArrivesIntact(t *testing.T) {
	body := make([]byte, 3*chunkSize+123)
	for i := range body {
		body[i] = byte(i * 7)
	}
	h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Another request borrowing chunks meanwhile must not disturb this one.
		other := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Repeat("z", 2*chunkSize)))
		Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), Policy{Default: 1 << 20}).ServeHTTP(httptest.NewRecorder(), other)
		got, err := io.ReadAll(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(body) || r.ContentLength != int64(len(body)) {
			t.Errorf("handler got %d bytes (ContentLength %d), not the %d sent", len(got), r.ContentLength, len(body))
		}
	}), Policy{Default: 1 << 20})
	req := httptest.NewRequest(http.MethodPost, "/v1/selections", strings.NewReader(string(body)))
	req.ContentLength = -1
	h.ServeHTTP(httptest.NewRecorder(), req)
}
