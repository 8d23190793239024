package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Page is one user's tab. Selectors are CSS selectors (document.querySelector). Every method
// waits for what it needs (at most 30 s) and fails the test when it cannot do its work.
type Page struct {
	t   testing.TB
	b   *Browser
	ctx context.Context

	mu        sync.Mutex
	mainFrame cdp.FrameID
	resources []*Resource                     // the current document's requests, in order
	byID      map[network.RequestID]*Resource // the same, by request
	console   []string                        // console errors and uncaught exceptions
}

// Context is the page's chromedp context, for what the helpers do not cover:
// chromedp.Run(p.Context(), ...).
func (p *Page) Context() context.Context { return p.ctx }

// Navigate loads url, waits for its load event and returns the HTTP status of the document.
func (p *Page) Navigate(url string) int {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
	if err != nil {
		p.t.Fatalf("navigating to %s: %v", url, err)
	}
	if resp == nil {
		return 0
	}
	return int(resp.Status)
}

// Fill replaces the value of the text field (input or textarea) that selector matches with
// value, typed key by key as a user would.
func (p *Page) Fill(selector, value string) {
	p.t.Helper()
	p.do(fmt.Sprintf("filling %s", selector),
		fill(chromedp.CSS(selector), "document.querySelector("+jsString(selector)+")", value))
}

// FillLabel is Fill for the field whose <label> reads label (whitespace collapsed, exact
// text), as a person finds it: p.FillLabel("Surel", "calon@example.id").
func (p *Page) FillLabel(label, value string) {
	p.t.Helper()
	control := p.labelled(label)
	p.do(fmt.Sprintf("filling the field labelled %q", label), fill(control, string(control), value))
}

// SetFile chooses the file at path (made absolute) for the <input type=file> selector names.
func (p *Page) SetFile(selector, path string) {
	p.t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		p.t.Fatalf("setting file %s: %v", path, err)
	}
	p.do(fmt.Sprintf("setting file %s on %s", abs, selector),
		chromedp.SetUploadFiles(chromedp.CSS(selector), []string{abs}))
}

// Select chooses the option with value in the <select> that selector matches, and fires the
// events a user's choice fires.
func (p *Page) Select(selector, value string) {
	p.t.Helper()
	js := fmt.Sprintf(`(() => {
		const s = document.querySelector(%s);
		if (!s) return "no element";
		if (![...s.options].some(o => o.value === %s)) return "no option with that value";
		s.value = %s;
		s.dispatchEvent(new Event("input", {bubbles: true}));
		s.dispatchEvent(new Event("change", {bubbles: true}));
		return "";
	})()`, jsString(selector), jsString(value), jsString(value))
	var problem string
	p.Eval(js, &problem)
	if problem != "" {
		p.t.Fatalf("selecting %q in %s: %s", value, selector, problem)
	}
}

// Click clicks the element selector matches, once it is visible. It does not wait for a
// navigation the click starts: use ClickAndWait for links and submit buttons.
func (p *Page) Click(selector string) {
	p.t.Helper()
	p.do(fmt.Sprintf("clicking %s", selector), chromedp.Click(chromedp.CSS(selector)))
}

// ClickAndWait clicks the element selector matches and waits for the page the click loads;
// it returns the HTTP status of the new document.
func (p *Page) ClickAndWait(selector string) int {
	p.t.Helper()
	status, err := p.runResponse(chromedp.Click(chromedp.CSS(selector)))
	if err != nil {
		p.t.Fatalf("clicking %s and waiting for the next page: %v", selector, err)
	}
	return status
}

// Submit submits the form selector matches as its first submit button would
// (form.requestSubmit(): constraint validation and submit handlers run) and waits for the
// page the server answers with; it returns the HTTP status of the new document.
func (p *Page) Submit(form string) int {
	p.t.Helper()
	js := fmt.Sprintf(`(() => {
		const f = document.querySelector(%s);
		if (!(f instanceof HTMLFormElement)) throw new Error("no form matches the selector");
		f.requestSubmit();
	})()`, jsString(form))
	status, err := p.runResponse(
		chromedp.WaitReady(chromedp.CSS(form)),
		chromedp.Evaluate[chromedp.Void](js),
	)
	if err != nil {
		p.t.Fatalf("submitting %s: %v", form, err)
	}
	return status
}

// Text is the rendered text (innerText) of the element selector matches.
func (p *Page) Text(selector string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(selector)))
	if err != nil {
		p.t.Fatalf("reading the text of %s: %v (on %s)", selector, err, p.location())
	}
	return s
}

// WaitVisible waits until the element selector matches is visible.
func (p *Page) WaitVisible(selector string) {
	p.t.Helper()
	p.do(fmt.Sprintf("waiting for %s to be visible", selector), chromedp.WaitVisible(chromedp.CSS(selector)))
}

// CurrentURL is the address of the document shown.
func (p *Page) CurrentURL() string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		p.t.Fatalf("reading the location: %v", err)
	}
	return u
}

// Cookies are the cookies the browser would send to the current page, HttpOnly ones included.
func (p *Page) Cookies() []*network.Cookie {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	res, err := chromedp.Run(ctx, func(ctx context.Context, t *chromedp.Target) (network.GetCookiesResult, error) {
		return cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{})
	})
	if err != nil {
		p.t.Fatalf("reading cookies: %v", err)
	}
	return res.Cookies
}

// Cookie is the value of the named cookie of the current page, and whether there is one.
func (p *Page) Cookie(name string) (string, bool) {
	p.t.Helper()
	for _, c := range p.Cookies() {
		if c.Name == name {
			return c.Value, true
		}
	}
	return "", false
}

// Eval evaluates the JavaScript expression in the page, awaiting a promise it returns, and
// decodes its JSON value into out (nil: the value is dropped).
func (p *Page) Eval(expression string, out any) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expression, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("evaluating %s: %v", abbreviate(expression), err)
	}
	if out == nil || len(raw) == 0 {
		return
	}
	if err := json.Unmarshal(raw, out); err != nil {
		p.t.Fatalf("decoding the value of %s: %v", abbreviate(expression), err)
	}
}

// do runs actions with the action timeout, failing the test with what on error.
func (p *Page) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v (on %s)", what, err, p.location())
	}
}

// runResponse runs actions that start a navigation, waits for the new document's load and
// returns its HTTP status.
func (p *Page) runResponse(actions ...chromedp.Action[chromedp.Void]) (int, error) {
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		return 0, err
	}
	if resp == nil { // a navigation within the document (a fragment)
		return 0, nil
	}
	return int(resp.Status), nil
}

// location is the page's address for error messages, or "?" when the tab does not answer.
func (p *Page) location() string {
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "?"
	}
	return u
}

// labelled selects the form control of the <label> whose collapsed text is label. A missing
// or ambiguous label fails at once with the labels the page has, rather than waiting.
func (p *Page) labelled(label string) chromedp.JSPath {
	p.t.Helper()
	find := fmt.Sprintf(`[...document.querySelectorAll("label")].filter(l => l.textContent.replace(/\s+/g, " ").trim() === %s)`, jsString(label))
	var check struct {
		Matches    int      `json:"matches"`
		HasControl bool     `json:"hasControl"`
		Labels     []string `json:"labels"`
	}
	p.Eval(fmt.Sprintf(`(() => {
		const m = %s;
		return {
			matches: m.length,
			hasControl: m.length === 1 && m[0].control !== null,
			labels: [...document.querySelectorAll("label")].map(l => l.textContent.replace(/\s+/g, " ").trim()),
		};
	})()`, find), &check)
	switch {
	case check.Matches == 0:
		p.t.Fatalf("no <label> reads %q on %s; the labels are %q", label, p.location(), check.Labels)
	case check.Matches > 1:
		p.t.Fatalf("%d <label>s read %q on %s", check.Matches, label, p.location())
	case !check.HasControl:
		p.t.Fatalf("the <label> %q on %s labels no form control (for= names no element?)", label, p.location())
	}
	return chromedp.JSPath(find + "[0].control")
}

// fill empties a text field's value (the property, which typing changed, not the attribute)
// and types value into it. element is a JavaScript expression for the field sel selects.
func fill[S chromedp.Selectable](sel S, element, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.WaitVisible(sel),
		chromedp.Evaluate[chromedp.Void](`((el) => {
			el.value = "";
			el.dispatchEvent(new Event("input", {bubbles: true}));
		})(`+element+`)`),
		chromedp.SendKeys(sel, value),
	)
}

// record keeps the network figures of the current document and its console errors. It runs
// on the tab's reading goroutine: it must be quick and run no command.
func (p *Page) record(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		if r := p.byID[ev.RequestID]; r != nil { // a redirect continues the same request
			if ev.RedirectResponse != nil {
				r.Redirects++
			}
			r.URL = ev.Request.URL
			return
		}
		if ev.Type == network.ResourceTypeOther && strings.HasSuffix(strings.SplitN(ev.Request.URL, "?", 2)[0], "/favicon.ico") {
			// The browser fetches the tab's icon itself, after the page; its
			// loadingFinished does not always reach the tab, so it would never be done.
			return
		}
		if ev.Type == network.ResourceTypeDocument && (p.mainFrame == "" || ev.FrameID == p.mainFrame) {
			p.resources, p.byID = nil, nil
		}
		if p.byID == nil {
			p.byID = make(map[network.RequestID]*Resource)
		}
		r := &Resource{URL: ev.Request.URL, Type: string(ev.Type)}
		p.resources = append(p.resources, r)
		p.byID[ev.RequestID] = r
	case *network.EventResponseReceived:
		if r := p.byID[ev.RequestID]; r != nil {
			r.Status = int(ev.Response.Status)
			r.MimeType = ev.Response.MimeType
			r.Type = string(ev.Type)
			r.Encoding = headerValue(ev.Response.Headers, "Content-Encoding")
			r.headerBytes = int64(ev.Response.EncodedDataLength)
		}
	case *network.EventRequestServedFromCache:
		if r := p.byID[ev.RequestID]; r != nil {
			r.FromCache = true
		}
	case *network.EventLoadingFinished:
		if r := p.byID[ev.RequestID]; r != nil {
			r.Transferred = int64(ev.EncodedDataLength)
			r.Body = int64(ev.EncodedBodyLength)
			if r.Body == 0 && r.Transferred > r.headerBytes {
				// Chromium leaves encodedBodyLength out; what arrived after the headers
				// is the body as sent (with chunked framing, if any).
				r.Body = r.Transferred - r.headerBytes
			}
			r.done = true
		}
	case *network.EventLoadingFailed:
		if r := p.byID[ev.RequestID]; r != nil {
			r.Failed = ev.ErrorText
			r.done = true
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
			var parts []string
			for _, a := range ev.Args {
				if len(a.Value) > 0 {
					parts = append(parts, string(a.Value))
				} else {
					parts = append(parts, a.Description)
				}
			}
			p.console = append(p.console, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(parts, " ")))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			msg = d.Exception.Description
		}
		p.console = append(p.console, fmt.Sprintf("uncaught exception at %s:%d: %s", d.URL, d.LineNumber+1, msg))
	}
}

// logConsole reports the page's console errors and exceptions when the test failed.
func (p *Page) logConsole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, line := range p.console {
		p.t.Logf("browser console: %s", line)
	}
}

func headerValue(h network.Headers, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return fmt.Sprint(v)
		}
	}
	return ""
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func abbreviate(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
