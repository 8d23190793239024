package auditchain

import (
	"encoding/json"
	"testing"
	"time"
)

// The published vector (see internal/audit's TestChainHashVector, which derives it from the
// documented encoding by hand): every chain already written depends on it.
func TestHashVector(t *testing.T) {
	l := Link{PrevHash: "00ff", SelectionID: "dinkes-2026-01", Seq: 3, WorkflowID: "selection-dinkes-2026-01", UpdateID: "req-1",
		CommandSeq: 3, ActorSubject: "member3", Role: "ROLE_COMMITTEE", Action: "DeclareConflict",
		Target: "selections/dinkes-2026-01/applications/app-0001", Reason: "former subordinate",
		WorkflowTime:  time.Date(2026, 11, 30, 19, 1, 26, 253497386, time.UTC),
		PayloadSHA256: "74234e98afe7498fb5daf1f36ac2d78acc339464f950703b8c019892f982b90b"}
	if got, want := Hash(l), "1167cf79a9dc4784accb5869cdcb6e83d2010ad7b70a081f430b33b6a9378103"; got != want {
		t.Fatalf("Hash = %s, want %s", got, want)
	}
	wita := time.FixedZone("WITA", 8*3600)
	l2 := l
	l2.WorkflowTime = l.WorkflowTime.In(wita)
	if Hash(l2) != Hash(l) {
		t.Error("the same instant in another zone hashes differently")
	}
}

func TestCanonicalJSON(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want string
		bad  bool
	}{
		{"keys sorted, spaces dropped", json.RawMessage(` {"b": [1, 2.50], "a": {"d": null, "c": true}} `), `{"a":{"c":true,"d":null},"b":[1,2.50]}`, false},
		{"no HTML escaping", map[string]string{"x": "<tahap> & diumumkan"}, `{"x":"<tahap> & diumumkan"}`, false},
		{"a Go struct", struct {
			Z int    `json:"z"`
			A string `json:"a"`
		}{1, "ü"}, `{"a":"ü","z":1}`, false},
		{"empty document is null", []byte("  "), `null`, false},
		{"data after the document", []byte(`{} {}`), "", true},
		{"not JSON", []byte(`{`), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CanonicalJSON(tt.in)
			if tt.bad {
				if err == nil {
					t.Fatalf("CanonicalJSON accepted %v", tt.in)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("CanonicalJSON = %s, %v; want %s", got, err, tt.want)
			}
		})
	}
}
