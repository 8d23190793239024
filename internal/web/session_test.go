package web

import "testing"

// TestSafeNext: a return address stays on this site, whatever a link or form carries.
func TestSafeNext(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/lamaran", "/lamaran"},
		{"/seleksi/a?x=1#b", "/seleksi/a?x=1#b"},
		{"", "/"},
		{"lamaran", "/"},
		{"//evil.example/", "/"},
		{"/\\evil.example", "/"},
		{"/\t/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"/\r\n/evil.example", "/"},
		{"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"/a\\b", "/"},
		{"/%2F%2Fevil.example", "/%2F%2Fevil.example"}, // a path on this site
	}
	for _, tt := range tests {
		if got := safeNext(tt.in); got != tt.want {
			t.Errorf("safeNext(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
