// Package flows holds seleksibench's whole-selection scenarios (the deadline rush, the
// national round, the mass selection and a year of selections) and the driver they share: a
// client of seleksid's REST gateway that runs selections through every stage as the
// secretariat, the committee and the candidates would, with their own bearer tokens, request
// IDs kept across retries, and a deadline on every wait.
package flows

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/bench"
)

// op groups the requests a scenario measures separately.
type op string

const (
	opSubmit  op = "submit"
	opUpload  op = "upload"
	opCommand op = "command"
	opCreate  op = "create"
	opRead    op = "read"
)

// Client is a client of the REST gateway shared by the goroutines of one scenario. It counts
// every request by kind and bounds how many are in flight, as a pool of clients would.
type Client struct {
	base string
	http *http.Client
	mint func(auth.MintOptions) (string, error)
	// slots bounds the requests in flight; a request's latency is counted from the moment it
	// has a slot, so that queueing in the driver is not charged to the server.
	slots chan struct{}
	// giveUp bounds how long one request is retried.
	giveUp time.Duration

	mu      sync.Mutex
	rec     map[op]*bench.Recorder
	retries atomic.Int64
	// notYet counts commands the workflow refused as for another stage and that were sent
	// again (run.command).
	notYet atomic.Int64
}

// NewClient makes a client of env's gateway with at most conns requests in flight.
func NewClient(env *bench.Env, conns int) *Client {
	return &Client{
		base: strings.TrimRight(env.HTTPBase, "/"),
		http: &http.Client{
			Timeout:   60 * time.Second,
			Transport: &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: 90 * time.Second},
		},
		mint:   env.Mint,
		slots:  make(chan struct{}, conns),
		giveUp: 2 * time.Minute,
		rec:    map[op]*bench.Recorder{},
	}
}

// recorder is the recorder of one kind of request, started at its first use.
func (c *Client) recorder(o op) *bench.Recorder {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.rec[o]
	if !ok {
		r = bench.NewRecorder()
		c.rec[o] = r
	}
	return r
}

// restart starts the clock of a kind of request anew, for a timed phase.
func (c *Client) restart(o op) *bench.Recorder {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := bench.NewRecorder()
	c.rec[o] = r
	return r
}

// summary is what the client measured of one kind of request.
func (c *Client) summary(o op) bench.Summary { return c.recorder(o).Summary() }

// token mints a bearer token, valid for the longest a scenario runs.
func (c *Client) token(role auth.Role, subject string, selections ...string) (string, error) {
	tok, err := c.mint(auth.MintOptions{Subject: subject, Role: role, Selections: selections, TTL: 6 * time.Hour})
	if err != nil {
		return "", fmt.Errorf("mint %s token for %s: %w", role, subject, err)
	}
	return tok, nil
}

// APIError is an answer that refused a request: the HTTP status and the gateway's JSON form
// of a google.rpc.Status.
type APIError struct {
	Method, Path string
	Status       int
	Code         int    `json:"code"`
	Message      string `json:"message"`
	Details      []struct {
		Type   string `json:"@type"`
		Reason string `json:"reason"`
	} `json:"details"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d (code %d): %s", e.Method, e.Path, e.Status, e.Code, e.Message)
}

// reason is the ErrorInfo reason of the refusal (the workflow's rejection type), or "".
func (e *APIError) reason() string {
	for _, d := range e.Details {
		if strings.HasSuffix(d.Type, "google.rpc.ErrorInfo") {
			return d.Reason
		}
	}
	return ""
}

// notYet reports whether err is the workflow refusing a command for its stage
// (FAILED_PRECONDITION, WrongStage): the stage it is for has not opened in the workflow yet.
func notYet(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == 9 && ae.reason() == "WrongStage"
}

// kind names a failure for the report: the HTTP status, or what the transport saw.
func failureKind(err error) string {
	var ae *APIError
	if errors.As(err, &ae) {
		return strconv.Itoa(ae.Status)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	msg := err.Error()
	for _, k := range []string{"connection refused", "connection reset", "EOF", "timeout", "broken pipe"} {
		if strings.Contains(msg, k) {
			return k
		}
	}
	return "transport"
}

// retryable reports whether trying the same request again (with the same request ID) may
// help: a broken connection, a 5xx, or the server asking to slow down.
func retryable(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status >= 500 || ae.Status == http.StatusTooManyRequests || ae.Status == http.StatusRequestTimeout
	}
	return !errors.Is(err, context.Canceled)
}

// call sends one request as the holder of token and decodes a 200 answer into out; body is
// JSON-encoded unless nil. A request that may succeed on a second try is sent again, with
// the same body (so the same request ID) after a backoff with jitter, until giveUp; its
// latency is the successful attempt's. A failure is counted once, under its last kind.
func (c *Client) call(ctx context.Context, o op, method, path, token string, body, out any) error {
	return c.send(ctx, o, method, path, token, body, out, nil)
}

// send is call; a refusal for which tolerated is true is returned without being counted as
// a failure.
func (c *Client) send(ctx context.Context, o op, method, path, token string, body, out any, tolerated func(error) bool) error {
	var payload []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		payload = b
	}
	rec := c.recorder(o)
	first := time.Now()
	for attempt := 1; ; attempt++ {
		took, retryAfter, err := c.attempt(ctx, method, path, token, payload, out)
		if err == nil {
			rec.Observe(took)
			return nil
		}
		if !retryable(err) || time.Since(first) > c.giveUp || ctx.Err() != nil {
			if tolerated == nil || !tolerated(err) {
				rec.Fail(failureKind(err))
			}
			if attempt > 1 {
				return fmt.Errorf("%w (after %d attempts over %s)", err, attempt, time.Since(first).Round(time.Millisecond))
			}
			return err
		}
		c.retries.Add(1)
		wait := backoff(attempt, retryAfter)
		select {
		case <-ctx.Done():
			rec.Fail("timeout")
			return fmt.Errorf("%s %s: %w", method, path, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// attempt sends one request once it has a slot.
func (c *Client) attempt(ctx context.Context, method, path, token string, payload []byte, out any) (time.Duration, string, error) {
	select {
	case c.slots <- struct{}{}:
	case <-ctx.Done():
		return 0, "", fmt.Errorf("%s %s: waiting for a connection: %w", method, path, ctx.Err())
	}
	defer func() { <-c.slots }()
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, "", fmt.Errorf("%s %s: %w", method, path, err)
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	began := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("%s %s: %w", method, path, err)
	}
	answer, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(began)
	if err != nil {
		return 0, "", fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		ae := &APIError{Method: method, Path: path, Status: resp.StatusCode}
		if json.Unmarshal(answer, ae) != nil || ae.Message == "" {
			ae.Message = strings.TrimSpace(string(answer))
		}
		return 0, resp.Header.Get("Retry-After"), ae
	}
	if out != nil {
		if err := json.Unmarshal(answer, out); err != nil {
			return 0, "", fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return took, "", nil
}

// backoff is the wait before attempt+1: the server's Retry-After when it gives one, else
// exponential from 50 ms to 2 s with jitter, so that many clients do not return in step.
func backoff(attempt int, retryAfter string) time.Duration {
	if s, err := strconv.Atoi(retryAfter); err == nil && s >= 0 {
		return time.Duration(s)*time.Second + rand.N(100*time.Millisecond)
	}
	ceiling := min(2*time.Second, 50*time.Millisecond<<min(attempt-1, 6))
	return ceiling/2 + rand.N(ceiling/2+1)
}
