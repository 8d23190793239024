package i18n

import (
	"embed"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"
	"unicode"
	"unicode/utf8"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"sigs.k8s.io/yaml"

	"github.com/bkpsdm/seleksi/workflows/calendar"
)

// Msg is a message to render: a code with named parameters and an optional embedded
// message, as the workflow and the store record it. EN and ID are the texts of records
// written before message codes; they are shown only for a code the catalog does not know.
type Msg struct {
	Code   string            `json:"code"`
	Params map[string]string `json:"params,omitempty"`
	Detail *Msg              `json:"detail,omitempty"`
	EN     string            `json:"en,omitempty"`
	ID     string            `json:"id,omitempty"`
}

//go:embed messages/id.yaml messages/en.yaml
var embedded embed.FS

// Catalog renders message codes in each supported language from templates with named
// parameters (go-i18n message files in YAML). It is built once at start-up and passed to
// the edges that show text to people: the API, the pages, the audit timeline and the
// notifications. Nothing upstream of those edges holds rendered text, so a wording fix
// here changes what people read and nothing that was recorded.
type Catalog struct {
	bundle *goi18n.Bundle
	loc    map[Lang]*goi18n.Localizer
	known  map[Lang]map[string]bool
	funcs  map[Lang]template.FuncMap
	// rendered remembers what RenderStrict rendered: go-i18n parses a template again at
	// every call that passes functions, which made rendering one status text cost more
	// than reading the application it belongs to.
	rendered *renderMemo
}

// renderMemoSize bounds the rendered texts remembered: the codes times the parameters in
// use (stages, deadlines, scores), far fewer in a day than this.
const renderMemoSize = 20_000

// renderMemo is a bounded map from a message and language (renderKey) to its text, or to
// the error of rendering it (a missing parameter fails the same way every time, and some
// views try a message without parameters before the one with them). When full it starts
// again empty, which costs one rendering per text and no bookkeeping on the path every call
// takes.
type renderMemo struct {
	mu sync.RWMutex
	m  map[string]rendering
}

type rendering struct {
	text string
	err  error
}

func (r *renderMemo) get(k string) (rendering, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s, ok := r.m[k]
	return s, ok
}

func (r *renderMemo) put(k string, s rendering) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.m) >= renderMemoSize {
		clear(r.m)
	}
	r.m[k] = s
}

// renderKey names m in l: everything RenderStrict's result depends on (the templates and
// their functions are fixed when the catalog is built). Every string is written after its
// length, so no parameter value can read as other parameters.
func renderKey(b *strings.Builder, m Msg, l Lang) {
	put := func(s string) {
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
	}
	put(string(l))
	put(m.Code)
	b.WriteString(strconv.Itoa(len(m.Params)))
	for _, k := range slices.Sorted(maps.Keys(m.Params)) {
		put(k)
		put(m.Params[k])
	}
	if m.Detail != nil {
		b.WriteByte('+')
		renderKey(b, *m.Detail, l)
	}
}

// NewCatalog parses the catalog shipped with Seleksi.
func NewCatalog() (*Catalog, error) {
	files := map[Lang][]byte{}
	for _, l := range []Lang{ID, EN} {
		b, err := embedded.ReadFile("messages/" + string(l) + ".yaml")
		if err != nil {
			return nil, fmt.Errorf("i18n: read catalog %s: %w", l, err)
		}
		files[l] = b
	}
	return ParseCatalog(files)
}

// ParseCatalog builds a catalog from one YAML message file per language (code: template).
func ParseCatalog(files map[Lang][]byte) (*Catalog, error) {
	c := &Catalog{
		bundle:   goi18n.NewBundle(language.Indonesian),
		loc:      map[Lang]*goi18n.Localizer{},
		known:    map[Lang]map[string]bool{},
		funcs:    map[Lang]template.FuncMap{},
		rendered: &renderMemo{m: map[string]rendering{}},
	}
	c.bundle.RegisterUnmarshalFunc("yaml", func(data []byte, v any) error { return yaml.Unmarshal(data, v) })
	for _, l := range []Lang{ID, EN} {
		b, ok := files[l]
		if !ok {
			return nil, fmt.Errorf("i18n: no catalog for %s", l)
		}
		f, err := c.bundle.ParseMessageFileBytes(b, string(l)+".yaml")
		if err != nil {
			return nil, fmt.Errorf("i18n: parse catalog %s: %w", l, err)
		}
		c.known[l] = map[string]bool{}
		for _, m := range f.Messages {
			c.known[l][m.ID] = true
		}
		c.loc[l] = goi18n.NewLocalizer(c.bundle, string(l))
		c.funcs[l] = c.funcMap(l)
	}
	return c, nil
}

// Knows reports whether the catalog has a template for code in l.
func (c *Catalog) Knows(code string, l Lang) bool { return c != nil && c.known[l][code] }

// Render is m in l: from the catalog when it knows the code, else the text an old record
// carries, else the code itself (never an empty string, never an error: people always
// read something, and RenderStrict is there for tests).
func (c *Catalog) Render(m Msg, l Lang) string {
	if s, err := c.RenderStrict(m, l); err == nil {
		return s
	}
	if t := (Text{ID: m.ID, EN: m.EN}); t.ID != "" || t.EN != "" {
		if l == EN && t.EN == "" {
			return t.ID
		}
		return t.In(l)
	}
	return m.Code
}

// Text is m in every language.
func (c *Catalog) Text(m Msg) Text { return Text{ID: c.Render(m, ID), EN: c.Render(m, EN)} }

// errUnknown is returned by RenderStrict for a code the catalog does not know.
var errUnknown = errors.New("unknown message code")

// RenderStrict renders m from the catalog and fails when the code is unknown or a
// parameter the template uses is missing.
func (c *Catalog) RenderStrict(m Msg, l Lang) (string, error) {
	if !c.Knows(m.Code, l) {
		return "", fmt.Errorf("i18n: %s in %s: %w", m.Code, l, errUnknown)
	}
	var key strings.Builder
	renderKey(&key, m, l)
	if r, ok := c.rendered.get(key.String()); ok {
		return r.text, r.err
	}
	s, err := c.render(m, l)
	if key.Len() <= renderMemoKeyMax {
		c.rendered.put(key.String(), rendering{text: s, err: err})
	}
	return s, err
}

// renderMemoKeyMax keeps texts with long parameters (reasons and notes people wrote) out of
// the memo: they are rarely rendered twice, and the memo's bound counts entries, not bytes.
const renderMemoKeyMax = 512

// render is RenderStrict without the memo.
func (c *Catalog) render(m Msg, l Lang) (string, error) {
	data := make(map[string]string, len(m.Params)+1)
	for k, v := range m.Params {
		data[k] = v
	}
	if m.Detail != nil {
		d, err := c.RenderStrict(*m.Detail, l)
		if err != nil {
			return "", err
		}
		data["detail"] = d
	}
	s, err := c.loc[l].Localize(&goi18n.LocalizeConfig{MessageID: m.Code, TemplateData: data, Funcs: c.funcs[l]})
	if err != nil {
		return "", fmt.Errorf("i18n: render %s in %s: %w", m.Code, l, err)
	}
	if strings.Contains(s, "<no value>") {
		return "", fmt.Errorf("i18n: render %s in %s: a parameter is missing: %q", m.Code, l, s)
	}
	return s, nil
}

// name is the catalog's name for an enum value (a stage, a score component, an education
// level), or the value itself.
func (c *Catalog) name(l Lang, kind, v string) string {
	if s, err := c.RenderStrict(Msg{Code: kind + "." + v}, l); err == nil {
		return s
	}
	return v
}

func (c *Catalog) funcMap(l Lang) template.FuncMap {
	monthsID := [...]string{"Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember"}
	date := func(t time.Time) string {
		if l == ID {
			return fmt.Sprintf("%d %s %d", t.Day(), monthsID[t.Month()-1], t.Year())
		}
		return t.Format("2 January 2006")
	}
	return template.FuncMap{
		"stage":     func(v string) string { return c.name(l, "stage", v) },
		"component": func(v string) string { return c.name(l, "component", v) },
		"education": func(v string) string { return c.name(l, "education", v) },
		"field":     func(v string) string { return c.name(l, "field", v) },
		// items names a list of requirement items ("education, document:lhkpn"): the fixed
		// items by their names, documents and the agency's items by their IDs.
		"items": func(v string) string {
			parts := strings.Split(v, ", ")
			for i, p := range parts {
				if doc, ok := strings.CutPrefix(p, "document:"); ok {
					parts[i] = c.name(l, "item", "document") + " " + doc
					continue
				}
				parts[i] = c.name(l, "item", p)
			}
			return strings.Join(parts, ", ")
		},
		// score formats hundredths with two decimals: "85,50" in Indonesian, "85.50" in English.
		"score": func(v string) string {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return v
			}
			sign := ""
			if n < 0 {
				sign, n = "-", -n
			}
			sep := "."
			if l == ID {
				sep = ","
			}
			return fmt.Sprintf("%s%d%s%02d", sign, n/100, sep, n%100)
		},
		// date formats a calendar date (YYYY-MM-DD).
		"date": func(v string) string {
			t, err := time.Parse(time.DateOnly, v)
			if err != nil {
				return v
			}
			return date(t)
		},
		// until formats a deadline (the instant a window ends, RFC 3339) as the last minute
		// still inside it, in local time of the agency's zone.
		"until": func(v, zone string) string {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return v
			}
			loc, err := calendar.Zone(zone).Location()
			if err != nil {
				loc, zone = time.UTC, "UTC"
			}
			lt := t.Add(-time.Minute).In(loc)
			if l == ID {
				return fmt.Sprintf("%s pukul %s %s", date(lt), lt.Format("15.04"), zone)
			}
			return fmt.Sprintf("%s %s on %s", lt.Format("15:04"), zone, date(lt))
		},
		// at formats an instant (RFC 3339) as the local date and time in the agency's zone.
		"at": func(v, zone string) string {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return v
			}
			loc, err := calendar.Zone(zone).Location()
			if err != nil {
				loc, zone = time.UTC, "UTC"
			}
			lt := t.In(loc)
			if l == ID {
				return fmt.Sprintf("%s pukul %s %s", date(lt), lt.Format("15.04"), zone)
			}
			return fmt.Sprintf("%s %s on %s", lt.Format("15:04"), zone, date(lt))
		},
		// sentence ends people's words with a full stop when they have none.
		"sentence": func(v string) string {
			v = strings.TrimSpace(v)
			if r, _ := utf8.DecodeLastRuneInString(v); v != "" && !strings.ContainsRune(".!?", r) {
				v += "."
			}
			return v
		},
		// bytes formats a size in bytes for people: "5 MiB", "4,8 MiB" in Indonesian and
		// "4.8 MiB" in English, "900 KiB", "12 B".
		"bytes": func(v string) string {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return v
			}
			unit, div := "B", int64(1)
			switch {
			case n >= 1<<30:
				unit, div = "GiB", 1<<30
			case n >= 1<<20:
				unit, div = "MiB", 1<<20
			case n >= 1<<10:
				unit, div = "KiB", 1<<10
			}
			tenths := (n*10 + div/2) / div
			if tenths%10 == 0 || div == 1 {
				return fmt.Sprintf("%d %s", (n+div/2)/div, unit)
			}
			sep := "."
			if l == ID {
				sep = ","
			}
			return fmt.Sprintf("%d%s%d %s", tenths/10, sep, tenths%10, unit)
		},
		"capitalize": func(v string) string {
			r, n := utf8.DecodeRuneInString(v)
			return string(unicode.ToUpper(r)) + v[n:]
		},
	}
}
