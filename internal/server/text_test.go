package server

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/types/known/structpb"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
)

// TestBadTextFindsEveryField: the walk reaches plain, nested, repeated and map fields (keys
// and values), and passes text the stores can hold.
func TestBadTextFindsEveryField(t *testing.T) {
	s, err := structpb.NewStruct(map[string]any{"ok": "baik", "bad\x00key": "x", "list": []any{"ok", "b\x00"}})
	if err != nil {
		t.Fatal(err)
	}
	// structpb refuses invalid UTF-8 itself; a message built in memory may still carry it.
	s.Fields["utf8"] = structpb.NewStringValue("\xff")
	var got []string
	badText(s.ProtoReflect(), "", &got)
	slices.Sort(got)
	want := []string{`fields["bad\x00key"]`, `fields["list"].list_value.values[1].string_value`, `fields["utf8"].string_value`}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	got = nil
	badText((&seleksiv1.WithdrawApplicationRequest{Name: "selections/a/applications/b", Reason: "mundur, terima kasih"}).ProtoReflect(), "", &got)
	if len(got) != 0 {
		t.Errorf("storable text refused: %q", got)
	}
}
