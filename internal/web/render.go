package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/justinas/nosurf"
	"google.golang.org/protobuf/types/known/timestamppb"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/i18n"
)

//go:embed templates static messages
var assets embed.FS

// pages holds every page's template (the layout and partials with the page's own "title"
// and "main"), parsed once at start-up, and the UI texts.
type pages struct {
	byName map[string]*template.Template
	text   *i18n.Catalog
	// digests of the static assets, for cache-busting URLs.
	digests map[string]string
}

func parsePages() (*pages, error) {
	text, err := parseMessages()
	if err != nil {
		return nil, err
	}
	digests := map[string]string{}
	if err := fs.WalkDir(assets, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assets.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		digests[strings.TrimPrefix(p, "static/")] = hex.EncodeToString(sum[:5])
		return nil
	}); err != nil {
		return nil, fmt.Errorf("web: assets: %w", err)
	}
	base, err := template.New("layout").Funcs(template.FuncMap{"selID": selectionID, "appID": applicationID, "docID": officialID, "fieldOf": fieldOf}).ParseFS(assets, "templates/layout.html", "templates/partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	p := &pages{byName: map[string]*template.Template{}, text: text, digests: digests}
	err = fs.WalkDir(assets, "templates", func(file string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(file, ".html") || file == "templates/layout.html" || strings.HasPrefix(file, "templates/partials/") {
			return err
		}
		t, err := base.Clone()
		if err != nil {
			return err
		}
		if t, err = t.ParseFS(assets, file); err != nil {
			return fmt.Errorf("web: parse %s: %w", file, err)
		}
		p.byName[strings.TrimSuffix(strings.TrimPrefix(file, "templates/"), ".html")] = t
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// parseMessages reads the UI texts: every messages/*.id.yaml and *.en.yaml (one file per
// area of the application, flat maps of code: text), one catalog per language.
func parseMessages() (*i18n.Catalog, error) {
	files := map[i18n.Lang][]byte{}
	for _, l := range []i18n.Lang{i18n.ID, i18n.EN} {
		names, err := fs.Glob(assets, "messages/*."+string(l)+".yaml")
		if err != nil {
			return nil, err
		}
		sort.Strings(names)
		var all bytes.Buffer
		for _, n := range names {
			b, err := assets.ReadFile(n)
			if err != nil {
				return nil, err
			}
			all.Write(b)
			all.WriteByte('\n')
		}
		files[l] = all.Bytes()
	}
	c, err := i18n.ParseCatalog(files)
	if err != nil {
		return nil, fmt.Errorf("web: messages: %w", err)
	}
	return c, nil
}

// view is what every template gets: the page's data and what the layout needs.
type view struct {
	p      *pages
	Lang   i18n.Lang
	User   *User
	CSRF   string
	Path   string
	Title  string
	Flash  string
	Data   any
	Errors map[string]string
	Form   url.Values
}

// T renders a UI text in the page's language: a code and then name, value pairs.
func (v view) T(code string, kv ...any) string {
	m := i18n.Msg{Code: code}
	if len(kv) > 0 {
		m.Params = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m.Params[fmt.Sprint(kv[i])] = fmt.Sprint(kv[i+1])
		}
	}
	return v.p.text.Render(m, v.Lang)
}

// Enum names an API enum value in the page's language (code "<prefix>.<VALUE>").
func (v view) Enum(prefix string, e fmt.Stringer) string { return v.T(prefix + "." + e.String()) }

// L is an API text in the page's language.
func (v view) L(t *seleksiv1.LocalizedText) string { return localizedText(t, v.Lang) }

// Stage names a stage.
func (v view) Stage(s seleksiv1.Stage) string { return v.Enum("stage", s) }

// When is a moment in the selection's time zone, with the zone's name.
func (v view) When(ts *timestamppb.Timestamp, zone seleksiv1.TimeZone) string {
	if ts == nil || !ts.IsValid() {
		return "—"
	}
	return formatTime(ts.AsTime(), zone, v.Lang, true)
}

// At is a moment with no selection to take the zone from (a notification), in WIB with the
// zone's name.
func (v view) At(ts *timestamppb.Timestamp) string {
	return v.When(ts, seleksiv1.TimeZone_TIME_ZONE_WIB)
}

// Day is the date of a moment in the selection's time zone.
func (v view) Day(ts *timestamppb.Timestamp, zone seleksiv1.TimeZone) string {
	if ts == nil || !ts.IsValid() {
		return "—"
	}
	return formatTime(ts.AsTime(), zone, v.Lang, false)
}

// Other is the language the switch offers.
func (v view) Other() i18n.Lang {
	if v.Lang == i18n.EN {
		return i18n.ID
	}
	return i18n.EN
}

// LangURL switches the language and comes back to this page.
func (v view) LangURL(l i18n.Lang) string {
	return "/bahasa?ke=" + string(l) + "&kembali=" + url.QueryEscape(v.Path)
}

// Field is a value the user posted, to fill the form again after an error.
func (v view) Field(name string) string { return v.Form.Get(name) }

// Err is the error of a form field, if any.
func (v view) Err(name string) string { return v.Errors[name] }

// formField is one labelled input of a form (the "account-field" partial).
type formField struct {
	V                             view
	Name, Type, Auto, Label, Hint string
}

// fieldOf describes an input for the "account-field" partial: its name (also its id, which
// the error summary links to), type, autocomplete token, label code and hint code ("" for
// none).
func fieldOf(v view, name, typ, auto, label, hint string) formField {
	return formField{V: v, Name: name, Type: typ, Auto: auto, Label: label, Hint: hint}
}

// Asset is the URL of a static asset, changing with its content so it may be cached forever.
func (v view) Asset(name string) string { return "/static/" + name + "?v=" + v.p.digests[name] }

var zones = map[seleksiv1.TimeZone]struct{ loc, name string }{
	seleksiv1.TimeZone_TIME_ZONE_WIB:  {"Asia/Jakarta", "WIB"},
	seleksiv1.TimeZone_TIME_ZONE_WITA: {"Asia/Makassar", "WITA"},
	seleksiv1.TimeZone_TIME_ZONE_WIT:  {"Asia/Jayapura", "WIT"},
}

var monthsID = [...]string{"Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember"}

// formatTime writes a moment as people in the agency read it: "1 Desember 2026 pukul 14.00
// WIB" or "1 December 2026, 14:00 WIB".
func formatTime(t time.Time, zone seleksiv1.TimeZone, l i18n.Lang, clock bool) string {
	z, ok := zones[zone]
	if !ok {
		z = zones[seleksiv1.TimeZone_TIME_ZONE_WIB]
	}
	if loc, err := time.LoadLocation(z.loc); err == nil {
		t = t.In(loc)
	}
	if l == i18n.EN {
		if !clock {
			return t.Format("2 January 2006")
		}
		return t.Format("2 January 2006, 15:04 ") + z.name
	}
	day := fmt.Sprintf("%d %s %d", t.Day(), monthsID[t.Month()-1], t.Year())
	if !clock {
		return day
	}
	return fmt.Sprintf("%s pukul %02d.%02d %s", day, t.Hour(), t.Minute(), z.name)
}

// lang is the page's language: the one the user chose (remembered in a cookie), else
// Indonesian.
func (s *Server) lang(r *http.Request) i18n.Lang {
	if c, err := r.Cookie(langCookie); err == nil && c.Value == string(i18n.EN) {
		return i18n.EN
	}
	return i18n.ID
}

// render writes a page with status.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	s.renderForm(w, r, status, page, data, nil, nil)
}

// renderForm writes a page with a form's posted values and field errors.
func (s *Server) renderForm(w http.ResponseWriter, r *http.Request, status int, page string, data any, form url.Values, errs map[string]string) {
	t, ok := s.pages.byName[page]
	if !ok {
		s.logger.ErrorContext(r.Context(), "web: no such page template", "page", page)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	v := view{p: s.pages, Lang: s.lang(r), CSRF: nosurf.Token(r), Path: r.URL.RequestURI(), Data: data, Form: form, Errors: errs}
	if u, ok := s.user(r); ok {
		v.User = &u
	}
	if code := s.sessions.PopString(r.Context(), keyFlash); code != "" {
		v.Flash = v.T(code)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.logger.ErrorContext(r.Context(), "web: render", "page", page, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorPage is the data of the error page: a title code and, when the API said more, its
// message.
type errorPage struct {
	Code, Message string
	Status        int
}

func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, code string) {
	s.renderErrorText(w, r, status, code, "")
}

func (s *Server) renderErrorText(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	s.render(w, r, status, "error", errorPage{Code: code, Message: message, Status: status})
}

// staticHandler serves the embedded assets; a URL carrying the asset's digest may be cached
// for a year, since a new content gets a new URL.
func staticHandler(fsys fs.FS) http.Handler {
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("v") != "" {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if path.Ext(r.URL.Path) == "" {
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	})
}
