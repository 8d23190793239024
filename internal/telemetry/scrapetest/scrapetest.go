// Package scrapetest reads a /metrics page in tests, as Prometheus would, and finds samples in
// it by name and labels.
package scrapetest

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Page is one scrape.
type Page map[string]*dto.MetricFamily

// Get scrapes url and fails the test unless it answers 200 with the text format.
func Get(t testing.TB, url string) Page {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("scrape %s: %s: %s", url, resp.Status, b)
	}
	return Parse(t, resp.Body)
}

// Parse reads a page in the text format.
func Parse(t testing.TB, r io.Reader) Page {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		t.Fatalf("parse metrics: %v", err)
	}
	return Page(fams)
}

// Value is the value of the sample of family name whose labels include labels: a counter's
// or gauge's value, a histogram's count. ok is false when there is no such sample.
func (p Page) Value(name string, labels map[string]string) (v float64, ok bool) {
	f := p[name]
	if f == nil {
		return 0, false
	}
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for k, want := range labels {
			if have[k] != want {
				match = false
				break
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		case m.Untyped != nil:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

// Has reports whether family name is on the page.
func (p Page) Has(name string) bool { return p[name] != nil }

// Series lists the label sets of family name's samples, for failure messages.
func (p Page) Series(name string) string {
	f := p[name]
	if f == nil {
		return name + ": absent"
	}
	out := ""
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		out += fmt.Sprintf("%v ", have)
	}
	return out
}
