package web

import (
	"io/fs"
	"regexp"
	"testing"

	"github.com/bkpsdm/seleksi/internal/i18n"
)

// TestReportTextsExist: every report text a template names, and the window and overdue
// kinds the dashboard names through printf, is in both catalogs.
func TestReportTextsExist(t *testing.T) {
	p, err := parsePages()
	if err != nil {
		t.Fatal(err)
	}
	found := templateCodes(t, regexp.MustCompile(`"(report\.[a-z_]+\.[a-z_.-]+)"`))
	if len(found) < 10 {
		t.Fatalf("found only %d report texts in the templates: %v", len(found), found)
	}
	for _, c := range []string{"report.dash.window.announcement", "report.dash.window.objections", "report.dash.window.appointment",
		"report.dash.overdue.objection", "report.dash.overdue.appointment"} {
		found[c] = true
	}
	for c := range found {
		for _, l := range []i18n.Lang{i18n.ID, i18n.EN} {
			if !p.text.Knows(c, l) {
				t.Errorf("%s: no text in %s", c, l)
			}
		}
	}
}

// templateCodes are the message codes the templates name, as the first group of re matches
// them.
func templateCodes(t *testing.T, re *regexp.Regexp) map[string]bool {
	t.Helper()
	found := map[string]bool{}
	err := fs.WalkDir(assets, "templates", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assets.ReadFile(name)
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			found[m[1]] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}
