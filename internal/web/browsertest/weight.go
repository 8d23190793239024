package browsertest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// Resource is one request of the current document, as the browser saw it on the wire.
type Resource struct {
	URL string
	// Type is the browser's resource type: Document, Stylesheet, Script, Image, Font, Fetch...
	Type     string
	Status   int
	MimeType string
	// Encoding is the response's Content-Encoding (gzip, br, or empty).
	Encoding string
	// Transferred is what the response cost on the wire: headers and body as sent, that is
	// compressed (CDP Network.loadingFinished encodedDataLength).
	Transferred int64
	// Body is the body as sent, before decompression: Transferred less the headers.
	Body      int64
	Redirects int
	FromCache bool
	// Failed is the browser's error text for a request that did not complete.
	Failed string

	done        bool
	headerBytes int64 // received when the response's headers arrived
}

// PageWeight is the transfer size of a page: its document and every resource it loaded.
type PageWeight struct {
	URL       string
	Total     int64 // sum of Transferred over Resources
	Resources []Resource
}

// Types that make a page's own weight: what the brief's budget ("HTML, CSS and scripts
// together") counts. Images and fonts are reported but counted separately.
var codeTypes = []string{"Document", "Stylesheet", "Script"}

// Of sums Transferred over the resources of the given types.
func (w PageWeight) Of(types ...string) int64 {
	var n int64
	for _, r := range w.Resources {
		if slices.Contains(types, r.Type) {
			n += r.Transferred
		}
	}
	return n
}

// Code is the transfer size of the document, its stylesheets and its scripts.
func (w PageWeight) Code() int64 { return w.Of(codeTypes...) }

// String is a table of the resources, for test logs.
func (w PageWeight) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s transferred (HTML+CSS+JS %s) in %d requests\n",
		w.URL, kb(w.Total), kb(w.Code()), len(w.Resources))
	for _, r := range w.Resources {
		enc := r.Encoding
		if enc == "" {
			enc = "identity"
		}
		fmt.Fprintf(&b, "  %9s  %-10s %3d %-8s %s", kb(r.Transferred), r.Type, r.Status, enc, r.URL)
		if r.Failed != "" {
			fmt.Fprintf(&b, " (failed: %s)", r.Failed)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func kb(n int64) string { return fmt.Sprintf("%.1f KB", float64(n)/1024) }

// Weight waits until every request of the current document has finished (or failed) and
// returns what they transferred. The figures start over at each navigation of the tab
// (Navigate, a followed link, a submitted form): they cover one page as a user loads it.
func (p *Page) Weight(t testing.TB) PageWeight {
	t.Helper()
	deadline := time.Now().Add(actionTimeout)
	for {
		p.mu.Lock()
		pending := ""
		for _, r := range p.resources {
			if !r.done {
				pending = r.URL
				break
			}
		}
		var w PageWeight
		if pending == "" {
			for _, r := range p.resources {
				w.Resources = append(w.Resources, *r)
				w.Total += r.Transferred
			}
		}
		p.mu.Unlock()
		if pending == "" {
			if len(w.Resources) > 0 {
				w.URL = w.Resources[0].URL
			}
			return w
		}
		if time.Now().After(deadline) {
			t.Fatalf("weighing the page: %s still loading after %v", pending, actionTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// AssertWeight logs the page's weight and fails the test when its document, stylesheets and
// scripts together transferred more than limit bytes.
func (p *Page) AssertWeight(t testing.TB, pageName string, limit int64) PageWeight {
	t.Helper()
	w := p.Weight(t)
	t.Logf("weight of %s: %s", pageName, w)
	if w.Code() > limit {
		t.Errorf("%s: HTML, CSS and scripts transferred %s, over the budget of %s", pageName, kb(w.Code()), kb(limit))
	}
	return w
}
