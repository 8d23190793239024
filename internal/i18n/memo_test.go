package i18n

import "testing"

// TestRenderMemo: texts are remembered per language, code, parameters and detail, so that a
// message rendered again reads the same and no two messages share a text they should not.
func TestRenderMemo(t *testing.T) {
	c, err := ParseCatalog(map[Lang][]byte{
		ID: []byte("greet: \"Halo {{.name}}{{if .detail}} ({{.detail}}){{end}}\"\nwhy: \"karena {{.x}}\"\nplain: \"polos\"\n"),
		EN: []byte("greet: \"Hello {{.name}}{{if .detail}} ({{.detail}}){{end}}\"\nwhy: \"because {{.x}}\"\nplain: \"plain\"\n"),
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		msg  Msg
		lang Lang
		want string
	}{
		{Msg{Code: "greet", Params: map[string]string{"name": "Ani"}}, ID, "Halo Ani"},
		{Msg{Code: "greet", Params: map[string]string{"name": "Ani"}}, EN, "Hello Ani"},
		{Msg{Code: "greet", Params: map[string]string{"name": "Budi"}}, ID, "Halo Budi"},
		{Msg{Code: "greet", Params: map[string]string{"name": "Ani"}, Detail: &Msg{Code: "why", Params: map[string]string{"x": "1"}}}, ID, "Halo Ani (karena 1)"},
		{Msg{Code: "greet", Params: map[string]string{"name": "Ani"}, Detail: &Msg{Code: "why", Params: map[string]string{"x": "2"}}}, ID, "Halo Ani (karena 2)"},
		{Msg{Code: "greet", Params: map[string]string{"name": "Ani"}, Detail: &Msg{Code: "plain"}}, EN, "Hello Ani (plain)"},
		// A parameter's value holding the key's separators must not read as other parameters.
		{Msg{Code: "greet", Params: map[string]string{"name": "Ani", "x": "y"}}, ID, "Halo Ani"},
		{Msg{Code: "greet", Params: map[string]string{"name": "Ani1:x1:y"}}, ID, "Halo Ani1:x1:y"},
		{Msg{Code: "greet", Params: map[string]string{"name": "Ani", "detail": "d"}}, ID, "Halo Ani (d)"},
	}
	for round := range 2 {
		for _, tc := range tests {
			got, err := c.RenderStrict(tc.msg, tc.lang)
			if err != nil || got != tc.want {
				t.Errorf("round %d: RenderStrict(%+v, %s) = %q, %v; want %q", round, tc.msg, tc.lang, got, err, tc.want)
			}
		}
	}
	// One per message and language, and one per detail rendered for them.
	if n, want := len(c.rendered.m), len(tests)+3; n != want {
		t.Errorf("%d texts remembered, want %d", n, want)
	}
	// A failure is remembered too, and fails again the same way.
	for round := range 2 {
		if _, err := c.RenderStrict(Msg{Code: "greet"}, ID); err == nil {
			t.Errorf("round %d: a missing parameter rendered without error", round)
		}
	}
}
