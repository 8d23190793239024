package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/app"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/config"
	"github.com/bkpsdm/seleksi/internal/pgtest"
)

// Helpers of the end-to-end test: a plain HTTP client of the REST gateway, tokens minted with
// the key seleksid keeps in its data directory, polling with deadlines, and a fresh
// PostgreSQL schema per test.

// e2eSecondsPerDay compresses every selection day of the end-to-end test to this many
// seconds. SELEKSI_E2E_SECONDS_PER_DAY raises it on slow machines.
func e2eSecondsPerDay() string {
	if v := os.Getenv("SELEKSI_E2E_SECONDS_PER_DAY"); v != "" {
		return v
	}
	return "2"
}

// stackDatabase is a store backend the stack tests run on.
type stackDatabase struct {
	name string
	// url gives the database URL for one test ("" is the SQLite default in the data dir).
	url func(t *testing.T) string
}

// stackDatabases are SQLite and PostgreSQL (a fresh schema per test).
func stackDatabases() []stackDatabase {
	return []stackDatabase{
		{"sqlite", func(*testing.T) string { return "" }},
		{"postgres", func(t *testing.T) string { return pgtest.SchemaURL(t) }},
	}
}

// startStack starts seleksid on db and returns it with a driver of a new selection whose ID
// starts with prefix. The stack stops when the test ends.
func startStack(t *testing.T, db stackDatabase, prefix string) (*app.App, *e2e) {
	t.Helper()
	dataDir := t.TempDir()
	cfg := e2eConfig(t, dataDir, db.url(t))
	a := startLogged(t, cfg)
	t.Cleanup(func() { stop(t, a) })
	return a, &e2e{
		api:      api{t: t, base: "http://" + a.HTTPAddr(), http: &http.Client{Timeout: 90 * time.Second}},
		tok:      newTokens(t, dataDir),
		storeURL: cfg.StoreURL(),
		id:       prefix + db.name + "-" + randomHex(3),
		archive:  a.ArchiveNow,
	}
}

// e2eConfig is the embedded default on random ports with compressed days, on SQLite in the
// data directory or on the database at databaseURL.
func e2eConfig(t *testing.T, dataDir, databaseURL string) config.Config {
	t.Helper()
	args := []string{
		"-data-dir", dataDir,
		"-grpc-addr", "127.0.0.1:0",
		"-http-addr", "127.0.0.1:0",
		"-embedded-temporal-addr", "127.0.0.1:0",
		"-embedded-temporal-ui-addr", "",
		"-shutdown-timeout", "20s",
		"-demo-seconds-per-day", e2eSecondsPerDay(),
		// These tests poll and command fast from one loopback address, as no real client
		// does; the rate limits are tested on the real transport in internal/app.
		"-rate-limits=false",
	}
	if databaseURL != "" {
		args = append(args, "-database-url", databaseURL)
	}
	cfg, err := config.Parse(args, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// startLogged starts seleksid like start does, keeping its log (warnings and errors) and
// showing it when the test fails: internal errors reach clients without their text.
func startLogged(t *testing.T, cfg config.Config) *app.App {
	t.Helper()
	var mu sync.Mutex
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	t.Cleanup(func() {
		if t.Failed() {
			mu.Lock()
			defer mu.Unlock()
			t.Logf("seleksid log:\n%s", buf.String())
		}
	})
	began := time.Now()
	a, err := app.Start(context.Background(), cfg, logger, startEmbedded)
	if err != nil {
		t.Fatalf("start seleksid: %v", err)
	}
	t.Logf("seleksid with embedded Temporal came up in %s", time.Since(began).Round(time.Millisecond))
	return a
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// tokens mints bearer tokens with the signing key seleksid created in its data directory.
type tokens struct {
	t   *testing.T
	key *auth.LocalKey
}

func newTokens(t *testing.T, dataDir string) tokens {
	t.Helper()
	key, err := auth.LoadOrCreateLocalKey(dataDir)
	if err != nil {
		t.Fatalf("signing key: %v", err)
	}
	return tokens{t: t, key: key}
}

func (k tokens) mint(role auth.Role, subject string, selections ...string) string {
	k.t.Helper()
	tok, err := k.key.Mint(auth.MintOptions{Subject: subject, Role: role, Selections: selections, TTL: time.Hour})
	if err != nil {
		k.t.Fatalf("mint %s token for %s: %v", role, subject, err)
	}
	return tok
}

// api is a plain HTTP client of the REST gateway.
type api struct {
	t    *testing.T
	base string
	http *http.Client
}

// reply is one HTTP answer.
type reply struct {
	method, path string
	code         int
	body         []byte
}

func (r reply) String() string {
	return r.method + " " + r.path + " = " + strconv.Itoa(r.code) + " " + strings.TrimSpace(string(r.body))
}

// rpcError is the gateway's JSON form of a google.rpc.Status.
type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Details []struct {
		Type   string `json:"@type"`
		Reason string `json:"reason"`
	} `json:"details"`
}

func (r reply) err() rpcError {
	var e rpcError
	_ = json.Unmarshal(r.body, &e)
	return e
}

// reason is the ErrorInfo reason of an error reply (the workflow's rejection type), or "".
func (r reply) reason() string {
	for _, d := range r.err().Details {
		if strings.HasSuffix(d.Type, "google.rpc.ErrorInfo") {
			return d.Reason
		}
	}
	return ""
}

// do sends one request; body is JSON-encoded unless it is nil.
func (a api) do(method, path, token string, body any) reply {
	a.t.Helper()
	return a.doIn("", method, path, token, body)
}

// doIn sends one request asking for answers in the language lang (Accept-Language), or in
// the default language when lang is empty.
func (a api) doIn(lang, method, path, token string, body any) reply {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			a.t.Fatalf("encode %s %s: %v", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return reply{method: method, path: path, code: resp.StatusCode, body: b}
}

// must sends a request that has to succeed with 200 and decodes the answer into out.
func (a api) must(method, path, token string, body, out any) reply {
	a.t.Helper()
	r := a.do(method, path, token, body)
	if r.code != http.StatusOK {
		a.t.Fatalf("%s", r)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			a.t.Fatalf("%s: decode: %v", r, err)
		}
	}
	return r
}

// JSON shapes of the resources, as much of them as the test reads.

type localizedJSON struct {
	ID string `json:"id"`
	EN string `json:"en"`
}

type selectionJSON struct {
	Name                 string `json:"name"`
	Stage                string `json:"stage"`
	AppointedApplication string `json:"appointedApplication"`
	StageOpenTime        string `json:"stageOpenTime"`
	StageCloseTime       string `json:"stageCloseTime"`
	TimeScale            float64
	Conflicts            []struct {
		MemberID    string `json:"memberId"`
		Application string `json:"application"`
	} `json:"conflicts"`
	ApplicationCounts struct {
		Total      int `json:"total"`
		Submitted  int `json:"submitted"`
		InProgress int `json:"inProgress"`
		Eliminated int `json:"eliminated"`
		Decided    int `json:"decided"`
	} `json:"applicationCounts"`
}

type scoreJSON struct {
	Component string  `json:"component"`
	Score     float64 `json:"score"`
}

type applicationJSON struct {
	Name              string        `json:"name"`
	Owner             string        `json:"owner"`
	State             string        `json:"state"`
	CurrentStage      string        `json:"currentStage"`
	EliminatedStage   string        `json:"eliminatedStage"`
	EliminationReason localizedJSON `json:"eliminationReason"`
	StatusText        localizedJSON `json:"statusText"`
	FinalScore        float64       `json:"finalScore"`
	Rank              int           `json:"rank"`
	StageResults      []struct {
		Stage    string      `json:"stage"`
		Outcome  string      `json:"outcome"`
		Reason   string      `json:"reason"`
		Revision int         `json:"revision"`
		Scores   []scoreJSON `json:"scores"`
	} `json:"stageResults"`
}

type stageResultJSON struct {
	Name     string `json:"name"`
	Stage    string `json:"stage"`
	Revision int    `json:"revision"`
	Entries  []struct {
		Application string      `json:"application"`
		Outcome     string      `json:"outcome"`
		Reason      string      `json:"reason"`
		Rank        int         `json:"rank"`
		FinalScore  float64     `json:"finalScore"`
		Scores      []scoreJSON `json:"scores"`
	} `json:"entries"`
}

type objectionJSON struct {
	Name     string `json:"name"`
	Stage    string `json:"stage"`
	State    string `json:"state"`
	Answer   string `json:"answer"`
	Revision int    `json:"revision"`
}

// getSelection reads the public selection.
func (a api) getSelection(id string) selectionJSON {
	a.t.Helper()
	var out struct{ Selection selectionJSON }
	a.must(http.MethodGet, "/v1/selections/"+id, "", nil, &out)
	return out.Selection
}

// waitStage polls the public selection until it reaches the stage, failing at the deadline.
func (a api) waitStage(id, stage string, timeout time.Duration) selectionJSON {
	a.t.Helper()
	deadline := time.Now().Add(timeout)
	var sel selectionJSON
	for {
		r := a.do(http.MethodGet, "/v1/selections/"+id, "", nil)
		if r.code == http.StatusOK {
			sel = selectionJSON{}
			if err := json.Unmarshal(r.body, &struct {
				Selection *selectionJSON `json:"selection"`
			}{&sel}); err != nil {
				a.t.Fatalf("%s: decode: %v", r, err)
			}
			if sel.Stage == stage {
				return sel
			}
			if sel.Stage == "STAGE_CANCELLED" || sel.Stage == "STAGE_CLOSED" {
				a.t.Fatalf("waiting for %s, the selection ended in %s: %s", stage, sel.Stage, r)
			}
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("selection %s did not reach %s within %s; last answer %s", id, stage, timeout, r)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
