// Package oidctest starts a real OpenID provider for tests: the example server of
// zitadel/oidc (github.com/zitadel/oidc/v3/example/server), with discovery, the
// authorization code flow with PKCE, a userinfo endpoint and a username/password login
// page, serving users from a file. Sign-in code is tested against it instead of a fake, so
// redirects, token requests, signatures and error codes are the ones a provider produces.
//
// The binary is built outside the module (.ci/tools installs it):
//
//	cd /tmp && GOBIN=DIR go install github.com/zitadel/oidc/v3/example/server@v3.52.0
//
// and found through SELEKSI_OIDC_PROVIDER (the binary is named "server", too generic to
// look for on PATH). Without it, tests skip, except under CI (CI set) or when
// SELEKSI_OIDC_PROVIDER names a missing file: there they fail.
//
// What the example provider can and cannot do shapes the tests: it registers fixed clients
// ("web" with secret "secret", confidential, client_secret_basic; "native", public; "api"),
// all allowed to redirect to REDIRECT_URI; its issuer is http://localhost:PORT/; it listens
// on every interface of the port (it takes no host). Its users carry fixed fields only
// (User below), no custom claims: the ID token holds sub and the standard claims, and
// profile and e-mail claims come from userinfo; the scope "custom_scope" adds the object
// claim custom_claim = {"client": CLIENT_ID, "other": "stuff"} for every user.
package oidctest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// User is an account of the provider, in the users file's format (the example's
// storage.User, whose fields have no JSON tags).
type User struct {
	ID                string
	Username          string
	Password          string
	FirstName         string
	LastName          string
	Email             string
	EmailVerified     bool
	Phone             string
	PhoneVerified     bool
	PreferredLanguage string // a BCP 47 tag, e.g. "id"
	IsAdmin           bool
}

// Server is a running provider.
type Server struct {
	// Issuer is the provider's issuer URL, with its trailing slash.
	Issuer string
	// ClientID and ClientSecret are the example's confidential "web" client.
	ClientID     string
	ClientSecret string
	// RedirectURL is the callback registered for every client. Nothing listens there:
	// Login stops at the redirect to it.
	RedirectURL string

	out *syncBuffer
}

// Start runs the provider with users for the rest of the test and stops it at cleanup.
func Start(t testing.TB, users ...User) *Server {
	t.Helper()
	bin := binary(t)
	dir := t.TempDir()
	byID := make(map[string]User, len(users))
	for _, u := range users {
		if u.PreferredLanguage == "" {
			u.PreferredLanguage = "id"
		}
		byID[u.ID] = u
	}
	data, err := json.Marshal(byID)
	if err != nil {
		t.Fatalf("oidctest: users: %v", err)
	}
	usersFile := filepath.Join(dir, "users.json")
	if err := os.WriteFile(usersFile, data, 0o600); err != nil {
		t.Fatalf("oidctest: %v", err)
	}

	var lastErr error
	// A free port may be taken between finding it and the provider binding it; try again.
	for range 3 {
		port, err := freePort()
		if err != nil {
			t.Fatalf("oidctest: free port: %v", err)
		}
		s := &Server{
			Issuer:       fmt.Sprintf("http://localhost:%d/", port),
			ClientID:     "web",
			ClientSecret: "secret",
			// Port 9 (discard): nothing is ever sent there, Browser stops at the redirect.
			RedirectURL: "http://127.0.0.1:9/auth/oidc/callback",
			out:         &syncBuffer{},
		}
		if lastErr = s.run(t, bin, usersFile, port); lastErr == nil {
			return s
		}
	}
	t.Fatalf("oidctest: provider did not start: %v", lastErr)
	return nil
}

func (s *Server) run(t testing.TB, bin, usersFile string, port int) error {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Dir = filepath.Dir(usersFile)
	cmd.Env = append(os.Environ(),
		"PORT="+strconv.Itoa(port),
		"USERS_FILE="+usersFile,
		"REDIRECT_URI="+s.RedirectURL,
	)
	cmd.Stdout, cmd.Stderr = s.out, s.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}

	start := time.Now()
	c := http.Client{Timeout: time.Second}
	for {
		select {
		case <-exited:
			return fmt.Errorf("provider exited: %s", s.out.String())
		default:
		}
		resp, err := c.Get(s.Issuer + ".well-known/openid-configuration")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Since(start) > 15*time.Second {
			stop()
			return fmt.Errorf("no discovery document after 15s: %v; output: %s", err, s.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("oidctest: provider %s ready in %s", s.Issuer, time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("oidctest: provider output:\n%s", s.out.String())
		}
	})
	return nil
}

// Browser is a user agent without a browser: an HTTP client with a cookie jar that
// follows the provider's redirects and stops at the relying party's callback.
type Browser struct {
	s      *Server
	client *http.Client
}

// Browser returns a new user agent with empty cookies.
func (s *Server) Browser(t testing.TB) *Browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &Browser{s: s}
	b.client = &http.Client{
		Jar:     jar,
		Timeout: 10 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), s.RedirectURL) {
				return http.ErrUseLastResponse
			}
			if len(via) >= 10 {
				return errors.New("too many redirects")
			}
			return nil
		},
	}
	return b
}

// ErrLoginRefused is returned by Login when the provider shows its login form again.
var ErrLoginRefused = errors.New("oidctest: provider refused the username or password")

// Login opens authURL, signs in on the provider's login page with username and password,
// and returns the query of the redirect to the relying party's callback (code and state,
// or error and state).
func (b *Browser) Login(ctx context.Context, authURL, username, password string) (url.Values, error) {
	resp, err := b.get(ctx, authURL)
	if err != nil {
		return nil, err
	}
	if q, ok, err := b.callback(resp); ok || err != nil {
		return q, err
	}
	page, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	id := formValue(page, "id")
	if resp.StatusCode != http.StatusOK || id == "" {
		return nil, fmt.Errorf("oidctest: expected the login page at %s, got %s: %.300s", resp.Request.URL, resp.Status, page)
	}
	form := url.Values{"id": {id}, "username": {username}, "password": {password}}
	action := resp.Request.URL.ResolveReference(&url.URL{Path: "/login/username"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = b.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("oidctest: post login form: %w", err)
	}
	q, ok, err := b.callback(resp)
	if ok || err != nil {
		return q, err
	}
	page, _ = io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if formValue(page, "id") != "" {
		return nil, ErrLoginRefused
	}
	return nil, fmt.Errorf("oidctest: after login, expected a redirect to %s, got %s: %.300s", b.s.RedirectURL, resp.Status, page)
}

// Open follows authURL without signing in, for requests the provider answers at once
// (prompt=none, a bad request); it returns the callback's query.
func (b *Browser) Open(ctx context.Context, authURL string) (url.Values, error) {
	resp, err := b.get(ctx, authURL)
	if err != nil {
		return nil, err
	}
	q, ok, err := b.callback(resp)
	if ok || err != nil {
		return q, err
	}
	page, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	return nil, fmt.Errorf("oidctest: expected a redirect to the callback, got %s: %.300s", resp.Status, page)
}

func (b *Browser) get(ctx context.Context, u string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("oidctest: get %s: %w", u, err)
	}
	return resp, nil
}

// callback reports whether resp redirects to the relying party's callback, and its query.
func (b *Browser) callback(resp *http.Response) (url.Values, bool, error) {
	if resp.StatusCode < 300 || resp.StatusCode > 399 {
		return nil, false, nil
	}
	_ = resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		return nil, true, fmt.Errorf("oidctest: redirect without location: %w", err)
	}
	if !strings.HasPrefix(loc.String(), b.s.RedirectURL) {
		return nil, true, fmt.Errorf("oidctest: redirect to %s, not the callback", loc)
	}
	return loc.Query(), true, nil
}

var inputRE = regexp.MustCompile(`<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"`)

// formValue returns the value of the login form's input named name.
func formValue(page []byte, name string) string {
	for _, m := range inputRE.FindAllSubmatch(page, -1) {
		if string(m[1]) == name {
			return string(m[2])
		}
	}
	return ""
}

// binary finds the provider, or skips or fails the test when there is none.
func binary(t testing.TB) string {
	t.Helper()
	const how = "run .ci/tools, or: cd /tmp && GOBIN=DIR go install github.com/zitadel/oidc/v3/example/server@v3.52.0, then set SELEKSI_OIDC_PROVIDER=DIR/server"
	p := os.Getenv("SELEKSI_OIDC_PROVIDER")
	if p == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("the OpenID example provider is required under CI (.ci/tools installs it); %s", how)
		}
		t.Skipf("no OpenID example provider (SELEKSI_OIDC_PROVIDER unset); %s", how)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("SELEKSI_OIDC_PROVIDER=%s: %v", p, err)
	}
	return p
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// syncBuffer collects the provider's output.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
