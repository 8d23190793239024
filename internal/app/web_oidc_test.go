package app

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/accounts/oidc"
	"github.com/bkpsdm/seleksi/internal/accounts/oidc/oidctest"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/server"
)

// TestWebSignInThroughOpenIDProvider: "Masuk dengan akun instansi" sends the browser to a
// real OpenID provider (zitadel/oidc's example server, its own process); after the person
// signs in there, the callback makes their account (role from the mapped claim) and signs
// them in where they were going. A callback replayed in another browser (no pending
// sign-in in its session) signs nobody in.
func TestWebSignInThroughOpenIDProvider(t *testing.T) {
	idp := oidctest.Start(t, oidctest.User{ID: "u-sri", Username: "sri", Password: "sandi-idp-2026", FirstName: "Sri", LastName: "Wahyuni",
		Email: "sri@bkpsdm.example", EmailVerified: true})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := oidc.New(ctx, oidc.Config{Issuer: idp.Issuer, ClientID: idp.ClientID, ClientSecret: idp.ClientSecret, RedirectURL: idp.RedirectURL,
		RoleClaim: "email", RoleMap: map[string]auth.Role{"sri@bkpsdm.example": auth.RoleAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	api := startRealAPI(t, "sqlite:"+t.TempDir()+"/web.db", server.Deadlines{}, func(o *realAPIOptions) { o.signIn = p })

	v := newVisitor(t, api)
	code, body, _ := v.get("/masuk")
	wantPage(t, "sign-in page", code, body, http.StatusOK, `id="masuk-instansi"`, "Masuk dengan akun instansi")
	code, _, authURL := v.get("/masuk/instansi?kembali=" + url.QueryEscape("/seleksi/"+selOpen))
	if code != http.StatusSeeOther || !strings.HasPrefix(authURL, idp.Issuer) {
		t.Fatalf("begin = %d to %q, want the provider %s", code, authURL, idp.Issuer)
	}
	q, err := idp.Browser(t).Login(ctx, authURL, "sri", "sandi-idp-2026")
	if err != nil {
		t.Fatal(err)
	}

	// The same callback in a browser that did not start the sign-in is refused.
	other := newVisitor(t, api)
	code, body, _ = other.get("/masuk/instansi/kembali?" + q.Encode())
	wantPage(t, "callback without a pending sign-in", code, body, http.StatusUnauthorized, "tidak berhasil")

	code, body, loc := v.get("/masuk/instansi/kembali?" + q.Encode())
	if code != http.StatusSeeOther || loc != "/seleksi/"+selOpen {
		t.Fatalf("callback = %d to %q\n%s", code, loc, body)
	}
	code, body, _ = v.get("/")
	wantPage(t, "signed in through the provider", code, body, http.StatusOK, "Sri Wahyuni", `href="/sekretariat"`)
	accts, err := api.accounts.List(ctx, auth.RoleAdmin)
	if err != nil || len(accts) != 1 || accts[0].Issuer != idp.Issuer || accts[0].Subject != "u-sri" {
		t.Errorf("accounts after the sign-in: %+v %v", accts, err)
	}
	// The code is spent: the callback cannot sign in again.
	code, _, _ = v.get("/masuk/instansi/kembali?" + q.Encode())
	if code == http.StatusSeeOther {
		t.Error("a spent callback signed in again")
	}
}
