package calendar

import (
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// shippedData holds one CSV per year, named holidays-id-YYYY.csv, with the columns
// date,kind,name_id,name_en and optional '#' comment lines. Add a year by dropping its file in
// data/ once the joint ministerial decree (SKB) is published.
//
//go:embed data/*.csv
var shippedData embed.FS

// parsedShipped parses the shipped lists once. They are embedded in the binary, so they
// cannot change while it runs, and the server builds a calendar from them for every
// selection it creates or checks: parsing the CSV files each time was most of that cost.
// The parsed lists are never handed out, only copies of them (see Shipped), so this is
// not state anyone can change.
var parsedShipped = sync.OnceValues(func() ([]Year, error) { return load(shippedData, "data") })

// Shipped returns every holiday list shipped with the program, sorted by year. The caller
// owns the result.
func Shipped() ([]Year, error) {
	years, err := parsedShipped()
	if err != nil {
		return nil, err
	}
	out := make([]Year, len(years))
	for i, y := range years {
		y.Days = slices.Clone(y.Days)
		out[i] = y
	}
	return out, nil
}

func load(fsys fs.FS, dir string) ([]Year, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("calendar: read shipped lists: %w", err)
	}
	var years []Year
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".csv") {
			continue
		}
		yearText := strings.TrimSuffix(strings.TrimPrefix(name, "holidays-id-"), ".csv")
		year, err := strconv.Atoi(yearText)
		if err != nil {
			return nil, fmt.Errorf("calendar: %s: file name must be holidays-id-YYYY.csv", name)
		}
		f, err := fsys.Open(dir + "/" + name)
		if err != nil {
			return nil, fmt.Errorf("calendar: %w", err)
		}
		y, err := ParseCSV(f, year)
		_ = f.Close()
		if err != nil {
			return nil, fmt.Errorf("calendar: %s: %w", name, err)
		}
		y.Source = SourceShipped
		years = append(years, y)
	}
	slices.SortFunc(years, func(a, b Year) int { return a.Year - b.Year })
	return years, nil
}

// ParseCSV reads one year's list in the shipped format (header date,kind,name_id,name_en;
// '#' starts a comment line). Every date must fall in year.
func ParseCSV(r io.Reader, year int) (Year, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = 4
	y := Year{Year: year, Days: []Holiday{}}
	header := true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Year{}, err
		}
		if header {
			header = false
			if rec[0] != "date" || rec[1] != "kind" {
				return Year{}, fmt.Errorf("header must be date,kind,name_id,name_en, got %s", strings.Join(rec, ","))
			}
			continue
		}
		d, err := ParseDate(strings.TrimSpace(rec[0]))
		if err != nil {
			return Year{}, err
		}
		y.Days = append(y.Days, Holiday{Date: d, Kind: Kind(strings.TrimSpace(rec[1])), NameID: rec[2], NameEN: rec[3]})
	}
	if _, err := New(WIB, []Year{y}); err != nil {
		return Year{}, err
	}
	return y, nil
}
