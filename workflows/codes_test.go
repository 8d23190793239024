package workflows

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCodesListsEveryCode reads the workflow's sources: every code the workflow builds with
// code("…") is listed in Codes(), so that the catalog tests (internal/i18n) check that each
// renders in Indonesian and English with the parameters given here.
func TestCodesListsEveryCode(t *testing.T) {
	listed := map[string]bool{}
	for _, m := range Codes() {
		listed[m.Code] = true
		if m.Detail != nil {
			listed[m.Detail.Code] = true
		}
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	literal := regexp.MustCompile(`\bcode\("([^"]+)"`)
	used := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "codes.go" {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range literal.FindAllStringSubmatch(string(src), -1) {
			used++
			if !listed[m[1]] {
				t.Errorf("%s: code %q is not listed in Codes()", f, m[1])
			}
		}
	}
	if used == 0 {
		t.Fatal("no code literals found; the pattern is out of date")
	}
	// Every named code (codes.go) is listed too.
	src, err := os.ReadFile("codes.go")
	if err != nil {
		t.Fatal(err)
	}
	named := regexp.MustCompile(`(?m)^\s+Code\w+\s+= "([^"]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(named) < 40 {
		t.Fatalf("found %d named codes in codes.go; the pattern is out of date", len(named))
	}
	for _, m := range named {
		if !listed[m[1]] {
			t.Errorf("code %q is named in codes.go but not listed in Codes()", m[1])
		}
	}
}
