package browsertest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// AxeTags are the axe-core rule tags Axe runs: WCAG 2.0 and 2.1, levels A and AA.
var AxeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

// Violation is one axe-core rule that the page breaks, with the elements that break it.
type Violation struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"` // minor, moderate, serious or critical
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	Nodes   []struct {
		Target         []string `json:"target"` // CSS selectors of the element
		HTML           string   `json:"html"`
		FailureSummary string   `json:"failureSummary"`
	} `json:"nodes"`
}

// Blocking reports whether the violation fails AssertAccessible (serious or critical).
func (v Violation) Blocking() bool { return v.Impact == "serious" || v.Impact == "critical" }

func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] %s: %s (%s)", v.Impact, v.ID, v.Help, v.HelpURL)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n    %s  %s", strings.Join(n.Target, " "), abbreviate(n.HTML))
	}
	return b.String()
}

// axeRun runs axe-core on the document and keeps what a report needs. Targets in iframes or
// shadow roots are lists of selectors, joined here.
var axeRun = fmt.Sprintf(`axe.run(document, {
	runOnly: {type: "tag", values: %s},
	resultTypes: ["violations"],
}).then(r => r.violations.map(v => ({
	id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
	nodes: v.nodes.map(n => ({
		target: n.target.map(x => Array.isArray(x) ? x.join(" >>> ") : String(x)),
		html: n.html, failureSummary: n.failureSummary,
	})),
})))`, jsStrings(AxeTags))

// Axe injects axe-core into the current page, runs the WCAG 2.1 A and AA rules and returns
// the violations, all impacts. axe.min.js comes from SELEKSI_AXE_JS (.ci/tools installs it);
// without it the test skips, except under CI, where it fails.
func (p *Page) Axe(t testing.TB) []Violation {
	t.Helper()
	src := p.b.axe(t)
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === "object"`))
	if err != nil {
		t.Fatalf("axe: %v", err)
	}
	if !loaded {
		// Runtime.evaluate runs as DevTools does: a page's Content-Security-Policy does not
		// stop it.
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](src)); err != nil {
			t.Fatalf("axe: injecting axe-core: %v", err)
		}
	}
	var violations []Violation
	p.Eval(axeRun, &violations)
	return violations
}

// AssertAccessible runs Axe and fails the test for every serious or critical violation,
// naming the rule, its help and the elements; minor and moderate ones are logged.
func (p *Page) AssertAccessible(t testing.TB, pageName string) []Violation {
	t.Helper()
	violations := p.Axe(t)
	for _, v := range violations {
		if v.Blocking() {
			t.Errorf("%s: accessibility violation %s", pageName, v)
		} else {
			t.Logf("%s: accessibility note %s", pageName, v)
		}
	}
	return violations
}

// axe reads axe.min.js once per browser.
func (b *Browser) axe(t testing.TB) string {
	t.Helper()
	if b.AxeJS == "" {
		const how = `install it with: eval "$(.ci/tools)" (sets SELEKSI_AXE_JS)`
		if os.Getenv("CI") != "" {
			t.Fatalf("axe-core is required under CI and SELEKSI_AXE_JS is unset; %s", how)
		}
		t.Skipf("accessibility check skipped: SELEKSI_AXE_JS is unset; %s", how)
	}
	b.axeOnce.Do(func() {
		src, err := os.ReadFile(b.AxeJS)
		b.axeSource, b.axeErr = string(src), err
	})
	if b.axeErr != nil {
		t.Fatalf("SELEKSI_AXE_JS: %v", b.axeErr)
	}
	return b.axeSource
}

func jsStrings(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = jsString(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
