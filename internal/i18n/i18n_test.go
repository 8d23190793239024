package i18n

import "testing"

func TestFromAcceptLanguage(t *testing.T) {
	tests := []struct {
		header string
		want   Lang
	}{
		{"", ID},
		{"en", EN},
		{"en-US,en;q=0.9", EN},
		{"id-ID,id;q=0.9,en;q=0.8", ID},
		{"fr-FR,en;q=0.5", EN},
		{"fr", ID},
		{"en;q=0.3, id;q=0.7", ID},
		{"en;q=0", ID},
		{"in", ID},
		{"EN-gb", EN},
		{"*", ID},
	}
	for _, tt := range tests {
		if got := FromAcceptLanguage(tt.header); got != tt.want {
			t.Errorf("FromAcceptLanguage(%q) = %s, want %s", tt.header, got, tt.want)
		}
	}
}

func TestText(t *testing.T) {
	m := Text{ID: "ditolak", EN: "denied"}
	if m.In(EN) != "denied" || m.In(ID) != "ditolak" || m.In("fr") != "ditolak" || m.Both() != "ditolak / denied" {
		t.Errorf("unexpected texts: %q %q %q", m.In(EN), m.In(ID), m.Both())
	}
}
