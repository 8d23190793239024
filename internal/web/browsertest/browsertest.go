// Package browsertest drives a real headless Chromium for the web application's end-to-end
// tests: sign in, fill and submit forms, upload files, read what the page shows, take
// screenshots at phone and desktop widths, check accessibility with axe-core and measure how
// many bytes a page costs on the wire. Only tests import it.
//
// One browser runs per test (Start); each user of the test gets a Page in a browser context
// of its own (NewUser), with its own cookies and storage, so a candidate and a committee
// member can be signed in at the same time.
//
// Chromium is Debian's /usr/bin/chromium, or the program named by SELEKSI_CHROMIUM; .ci/run
// installs it when it is missing. axe-core is installed by .ci/tools, which prints
// SELEKSI_AXE_JS. Without Chromium (or, for Axe, without axe-core) the tests skip, except
// under CI (CI set), where they fail.
//
// Page methods fail the test through the testing.TB given to NewUser, so they must be called
// from that test's goroutine.
package browsertest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
)

// DefaultChromium is where Debian's chromium package installs the browser.
const DefaultChromium = "/usr/bin/chromium"

// actionTimeout bounds one page action (a navigation, a query, a submit) so that a page that
// never shows what a test waits for fails the test instead of hanging until go test's timeout.
const actionTimeout = 30 * time.Second

// Desktop viewport of every new page; Screenshot also renders the phone width.
const (
	desktopWidth  = 1280
	desktopHeight = 800
)

// Browser is one running Chromium, closed when the test that started it ends.
type Browser struct {
	ctx context.Context // the browser's first tab; its cancellation stops the process

	// ScreenshotDir is where Page.Screenshot writes; Start sets it from SELEKSI_SCREENSHOTS,
	// else <module root>/internal/web/testdata/screenshots (gitignored), else a directory
	// under os.TempDir().
	ScreenshotDir string

	// AxeJS is the path of axe.min.js; Start sets it from SELEKSI_AXE_JS.
	AxeJS string

	axeOnce   sync.Once
	axeSource string
	axeErr    error
}

// Start launches a headless Chromium with an empty profile for the rest of the test.
func Start(t testing.TB) *Browser {
	t.Helper()
	bin := chromiumPath(t)
	profile := t.TempDir()
	var output syncBuffer
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.UserDataDir(profile),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(desktopWidth, desktopHeight),
		chromedp.CombinedOutput(&output),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	started := time.Now()
	// The first Run starts the process and binds its life to ctx, which has no deadline; a
	// start that hangs is bounded by go test's own timeout.
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("starting %s: %v\nbrowser output:\n%s", bin, err, output.String())
	}
	t.Logf("browsertest: %s started in %v", bin, time.Since(started).Round(time.Millisecond))
	t.Cleanup(func() {
		closeCtx, stop := context.WithTimeout(ctx, 10*time.Second)
		defer stop()
		if err := chromedp.Cancel(closeCtx); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("browsertest: closing the browser: %v", err)
		}
		cancel()
		cancelAlloc()
	})
	return &Browser{
		ctx:           ctx,
		ScreenshotDir: screenshotDir(),
		AxeJS:         os.Getenv("SELEKSI_AXE_JS"),
	}
}

// NewUser opens a tab in a new browser context (like an incognito window): its cookies,
// storage and cache are its own. The tab closes when the test ends.
func (b *Browser) NewUser(t testing.TB) *Page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	p := &Page{t: t, b: b, ctx: ctx}
	// The listener is installed before the tab's first command, so it sees every request.
	if err := chromedp.Listen(ctx, p.record); err != nil {
		cancel()
		t.Fatalf("opening a tab: %v", err)
	}
	// A tab's main frame has the tab's target ID; Weight starts over at its navigations.
	if c := chromedp.FromContext(ctx); c != nil && c.Target != nil {
		p.mu.Lock()
		p.mainFrame = cdp.FrameID(c.Target.TargetID)
		p.mu.Unlock()
	}
	t.Cleanup(func() {
		if t.Failed() {
			p.logConsole()
		}
		cancel()
	})
	return p
}

// chromiumPath finds the browser, or skips (fails under CI) the test when there is none.
func chromiumPath(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("SELEKSI_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("SELEKSI_CHROMIUM=%s: %v", p, err)
		}
		return p
	}
	if _, err := os.Stat(DefaultChromium); err == nil {
		return DefaultChromium
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	const how = "install it with: apt-get install -y --no-install-recommends chromium (.ci/run does), or set SELEKSI_CHROMIUM"
	if os.Getenv("CI") != "" {
		t.Fatalf("Chromium is required under CI and %s is missing; %s", DefaultChromium, how)
	}
	t.Skipf("browser tests skipped: no Chromium at %s (SELEKSI_CHROMIUM unset); %s", DefaultChromium, how)
	return ""
}

// screenshotDir is SELEKSI_SCREENSHOTS, else internal/web/testdata/screenshots of the module
// the test runs in, else a directory under os.TempDir().
func screenshotDir() string {
	if d := os.Getenv("SELEKSI_SCREENSHOTS"); d != "" {
		return d
	}
	if root, ok := moduleRoot(); ok {
		return filepath.Join(root, "internal", "web", "testdata", "screenshots")
	}
	return filepath.Join(os.TempDir(), "seleksi-screenshots")
}

// moduleRoot walks up from the working directory (a test's package directory) to go.mod.
func moduleRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// syncBuffer collects the browser's output, written from the allocator's goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// Keep the start of the output (where launch errors are) and drop the rest.
	if b.buf.Len() < 64<<10 {
		b.buf.Write(p)
	}
	return len(p), nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
