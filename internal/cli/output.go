package cli

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	"sigs.k8s.io/yaml"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
)

// print writes resp as one JSON document with -o json, or as the table that draw draws.
// The JSON uses the same field names as the REST gateway (lowerCamelCase, unset fields
// omitted), so scripts can move between the two.
func (inv *invocation) print(resp proto.Message, draw func(t *table)) error {
	w := inv.app.Stdout
	if inv.g.output == "json" {
		b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(resp)
		if err != nil {
			return fmt.Errorf("encode answer as JSON: %w", err)
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	draw(t)
	return t.tw.Flush()
}

// table aligns columns with text/tabwriter.
type table struct{ tw *tabwriter.Writer }

// row writes one line of cells; tabs and newlines inside cells are flattened so that they
// cannot break the alignment.
func (t *table) row(cells ...string) {
	for i, c := range cells {
		cells[i] = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(c)
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

// field writes a label and value, skipping empty values so detail views stay short.
func (t *table) field(label, value string) {
	if value != "" {
		t.row(label, value)
	}
}

// blank ends one block of aligned rows; the next block aligns on its own.
func (t *table) blank() {
	_ = t.tw.Flush()
	fmt.Fprintln(t.tw)
}

func fmtTime(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return ""
	}
	return ts.AsTime().Local().Format("2006-01-02 15:04 MST")
}

func fmtScore(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func fmtScores(scores []*seleksiv1.ComponentScore) string {
	var s []string
	for _, c := range scores {
		s = append(s, slug(c.GetComponent())+"="+fmtScore(c.GetScore()))
	}
	return strings.Join(s, " ")
}

// localized picks the text in the language of --lang, falling back to Indonesian as the
// server does.
func (inv *invocation) localized(t *seleksiv1.LocalizedText) string {
	if inv.g.lang == "en" && t.GetEn() != "" {
		return t.GetEn()
	}
	return t.GetId()
}

// readInput reads a file named by a flag, or stdin for "-".
func (inv *invocation) readInput(flagName, path string) ([]byte, error) {
	if path == "" {
		return nil, usageErrorf("missing required flag --%s", flagName)
	}
	var (
		b   []byte
		err error
	)
	if path == "-" {
		if inv.app.Stdin == nil {
			return nil, usageErrorf("--%s -: no standard input", flagName)
		}
		b, err = io.ReadAll(inv.app.Stdin)
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, usageErrorf("--%s: %v", flagName, err)
	}
	return b, nil
}

// loadYAML reads a message from YAML (or JSON, which is YAML too). Field names may be written
// as in the proto (snake_case) or in JSON (lowerCamelCase); enums by name. Unknown fields are
// errors, so a misspelt field is not silently dropped.
func (inv *invocation) loadYAML(flagName, path string, m proto.Message) error {
	b, err := inv.readInput(flagName, path)
	if err != nil {
		return err
	}
	return decodeYAML(b, path, m)
}

// decodeYAML is loadYAML on bytes already read; path names the file in errors.
func decodeYAML(b []byte, path string, m proto.Message) error {
	js, err := yaml.YAMLToJSON(b)
	if err != nil {
		return usageErrorf("%s: not valid YAML: %v", path, err)
	}
	if err := protojson.Unmarshal(js, m); err != nil {
		return usageErrorf("%s: %v", path, err)
	}
	return nil
}

// since formats an elapsed duration for summaries.
func since(start time.Time) string { return time.Since(start).Round(time.Millisecond).String() }
