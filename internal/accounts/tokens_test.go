package accounts_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/accounts"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/store"
)

func TestTokens(t *testing.T) {
	cases := []struct {
		name string
		fn   func(t *testing.T, e *env)
	}{
		{"CreateListVerify", testTokenCreateListVerify},
		{"TokenValidation", testTokenValidation},
		{"WrongTokens", testWrongTokens},
		{"RevokeExpireDisable", testTokenRevokeExpireDisable},
		{"CommitteeSeatsAtEachCall", testTokenCommitteeSeats},
		{"LastUsedOncePerMinute", testTokenLastUsed},
		{"TooManyTokens", testTooManyTokens},
		{"StoreDown", testTokenStoreDown},
	}
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.fn(t, newEnv(t, d.url(t)))
				})
			}
		})
	}
}

// newToken makes a token and keeps its secret out of the log (checked at cleanup).
func (e *env) newToken(t *testing.T, accountID, name string, ttl time.Duration) (string, accounts.AccessToken) {
	t.Helper()
	secret, tok, err := e.svc.CreateToken(context.Background(), accountID, name, ttl)
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	e.secret(secret, strings.TrimPrefix(secret, accounts.TokenPrefix))
	return secret, tok
}

func unauthenticated(t *testing.T, v auth.Verifier, token, why string) {
	t.Helper()
	p, err := v.Verify(context.Background(), token)
	if !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("%s: principal %+v, error %v; want ErrUnauthenticated", why, p, err)
		return
	}
	if token != "" && strings.Contains(err.Error(), token) {
		t.Errorf("%s: the error holds the token: %v", why, err)
	}
}

func testTokenCreateListVerify(t *testing.T, e *env) {
	ctx := context.Background()
	a := e.confirmed(t, "Calon Token", "198001012005011001", "calon@example.go.id")
	secret, tok := e.newToken(t, a.ID, "  laptop kantor ", 0)
	if !strings.HasPrefix(secret, accounts.TokenPrefix) || len(secret) != len(accounts.TokenPrefix)+43 {
		t.Fatalf("secret %q: want skp_ and 43 base64url characters", secret)
	}
	if tok.Name != "laptop kantor" || tok.AccountID != a.ID || !tok.CreatedAt.Equal(t0) || !tok.ExpiresAt.Equal(t0.Add(accounts.DefaultTokenTTL)) ||
		!tok.LastUsedAt.IsZero() || !strings.HasPrefix(tok.ID, "tok_") {
		t.Fatalf("token %+v", tok)
	}
	secret2, _ := e.newToken(t, a.ID, "cron", 7*24*time.Hour)
	if secret2 == secret {
		t.Fatal("two tokens share a secret")
	}
	// Only the hash is stored.
	recs, err := e.st.AccessTokensOfAccount(ctx, a.ID)
	if err != nil || len(recs) != 2 {
		t.Fatalf("rows %+v, %v", recs, err)
	}
	for _, r := range recs {
		if strings.Contains(r.SecretHash, strings.TrimPrefix(secret, accounts.TokenPrefix)) || len(r.SecretHash) != 64 {
			t.Fatalf("stored %q", r.SecretHash)
		}
	}
	list, err := e.svc.Tokens(ctx, a.ID)
	if err != nil || len(list) != 2 {
		t.Fatalf("tokens: %+v, %v", list, err)
	}
	e.clock.Advance(time.Second)
	p, err := e.svc.TokenVerifier().Verify(ctx, secret)
	want := auth.Principal{Issuer: auth.LocalIssuer, Subject: a.Subject, Role: auth.RoleCandidate}
	if err != nil || p.Issuer != want.Issuer || p.Subject != want.Subject || p.Role != want.Role || len(p.Selections) != 0 {
		t.Fatalf("verify: %+v, %v; want %+v", p, err, want)
	}
}

func testTokenValidation(t *testing.T, e *env) {
	ctx := context.Background()
	a := e.confirmed(t, "Calon", "", "calon@example.go.id")
	for _, tc := range []struct {
		name, tokenName string
		ttl             time.Duration
		field, code     string
	}{
		{"empty name", "", 0, accounts.FieldTokenName, accounts.CodeRequired},
		{"blank name", "   ", 0, accounts.FieldTokenName, accounts.CodeRequired},
		{"control character", "a\x00b", 0, accounts.FieldTokenName, accounts.CodeInvalid},
		{"invalid UTF-8", "a\xffb", 0, accounts.FieldTokenName, accounts.CodeInvalid},
		{"long name", strings.Repeat("n", accounts.MaxTokenNameLen+1), 0, accounts.FieldTokenName, accounts.CodeTooLong},
		{"negative validity", "x", -time.Hour, accounts.FieldTokenValidity, accounts.CodeInvalid},
		{"too long validity", "x", accounts.MaxTokenTTL + time.Second, accounts.FieldTokenValidity, accounts.CodeInvalid},
	} {
		_, _, err := e.svc.CreateToken(ctx, a.ID, tc.tokenName, tc.ttl)
		var fe *accounts.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field || fe.Code != tc.code || !errors.Is(err, accounts.ErrInvalidInput) {
			t.Errorf("%s: %v, want %s %s", tc.name, err, tc.field, tc.code)
		}
	}
	if _, tok := e.newToken(t, a.ID, strings.Repeat("n", accounts.MaxTokenNameLen), accounts.MaxTokenTTL); !tok.ExpiresAt.Equal(t0.Add(accounts.MaxTokenTTL)) {
		t.Fatalf("longest validity: %+v", tok)
	}
	if _, _, err := e.svc.CreateToken(ctx, "acc_missing", "x", 0); !errors.Is(err, accounts.ErrNotFound) {
		t.Fatalf("missing account: %v", err)
	}
	if list, err := e.svc.Tokens(ctx, a.ID); err != nil || len(list) != 1 {
		t.Fatalf("a refused token was stored: %+v, %v", list, err)
	}
}

func testWrongTokens(t *testing.T, e *env) {
	a := e.confirmed(t, "Calon", "", "calon@example.go.id")
	secret, _ := e.newToken(t, a.ID, "x", 0)
	v := e.svc.TokenVerifier()
	flip := []byte(secret)
	if flip[10] == 'A' {
		flip[10] = 'B'
	} else {
		flip[10] = 'A'
	}
	for _, tc := range []struct{ name, token string }{
		{"empty", ""},
		{"a JWT", "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln"},
		{"prefix only", accounts.TokenPrefix},
		{"other prefix", "skq_" + strings.TrimPrefix(secret, accounts.TokenPrefix)},
		{"upper-case prefix", "SKP_" + strings.TrimPrefix(secret, accounts.TokenPrefix)},
		{"one character changed", string(flip)},
		{"one character more", secret + "A"},
		{"one character less", secret[:len(secret)-1]},
		{"not base64url", secret[:len(secret)-1] + "+"},
		{"unknown", accounts.TokenPrefix + strings.Repeat("A", 43)},
		{"with a space", " " + secret},
	} {
		unauthenticated(t, v, tc.token, tc.name)
	}
	if _, err := v.Verify(context.Background(), secret); err != nil {
		t.Fatalf("the right token: %v", err)
	}
}

func testTokenRevokeExpireDisable(t *testing.T, e *env) {
	ctx := context.Background()
	a := e.confirmed(t, "Calon", "", "calon@example.go.id")
	b := e.confirmed(t, "Calon Lain", "", "lain@example.go.id")
	v := e.svc.TokenVerifier()
	revoked, rtok := e.newToken(t, a.ID, "dicabut", 0)
	short, _ := e.newToken(t, a.ID, "sehari", 24*time.Hour)
	long, _ := e.newToken(t, a.ID, "lama", accounts.MaxTokenTTL)

	if err := e.svc.RevokeToken(ctx, b.ID, rtok.ID); !errors.Is(err, accounts.ErrNotFound) {
		t.Fatalf("another account revokes: %v", err)
	}
	if _, err := v.Verify(ctx, revoked); err != nil {
		t.Fatalf("before revocation: %v", err)
	}
	if err := e.svc.RevokeToken(ctx, a.ID, rtok.ID); err != nil {
		t.Fatal(err)
	}
	unauthenticated(t, v, revoked, "revoked")
	if list, _ := e.svc.Tokens(ctx, a.ID); len(list) != 2 {
		t.Fatalf("a revoked token is listed: %+v", list)
	}

	e.clock.Advance(24*time.Hour - time.Second)
	if _, err := v.Verify(ctx, short); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	e.clock.Advance(time.Second)
	unauthenticated(t, v, short, "expired")
	list, _ := e.svc.Tokens(ctx, a.ID)
	expired := 0
	for _, tok := range list {
		if tok.Expired(e.clock.Now()) {
			expired++
		}
	}
	if len(list) != 2 || expired != 1 {
		t.Fatalf("an expired token stays listed, marked expired: %+v", list)
	}

	if err := e.svc.SetDisabled(ctx, a.ID, true); err != nil {
		t.Fatal(err)
	}
	unauthenticated(t, v, long, "disabled account")
	if _, _, err := e.svc.CreateToken(ctx, a.ID, "x", 0); !errors.Is(err, accounts.ErrDisabled) {
		t.Fatalf("a disabled account makes a token: %v", err)
	}
	if err := e.svc.SetDisabled(ctx, a.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, long); err != nil {
		t.Fatalf("enabled again: %v", err)
	}
}

func testTokenCommitteeSeats(t *testing.T, e *env) {
	ctx := context.Background()
	for _, id := range []string{"kadis-2026", "sekda-2026"} {
		if _, err := e.st.CreateSelection(ctx, store.NewSelection{ID: id, RequestID: "create-" + id, WorkflowID: "selection-" + id,
			PositionTitle: "Kepala Dinas", Agency: "Pemerintah Kota Contoh", TimeZone: "TIME_ZONE_WIB", Config: []byte(`{}`),
			Actor: store.Actor{Subject: "admin", Role: "ROLE_ADMIN"}, Now: t0}); err != nil {
			t.Fatal(err)
		}
	}
	e.secret("panitia@example.go.id")
	m, err := e.svc.Create(ctx, accounts.NewAccount{Role: auth.RoleCommittee, FullName: "Panitia", Email: "panitia@example.go.id"})
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := e.newToken(t, m.ID, "skrip panitia", 0)
	v := e.svc.TokenVerifier()
	check := func(want ...string) {
		t.Helper()
		p, err := v.Verify(ctx, secret)
		if err != nil || p.Role != auth.RoleCommittee || p.Subject != m.Subject || p.Issuer != m.Issuer || strings.Join(p.Selections, ",") != strings.Join(want, ",") {
			t.Fatalf("principal %+v, %v; want selections %v", p, err, want)
		}
	}
	check()
	if _, err := e.svc.LinkSeat(ctx, "kadis-2026", m.ID); err != nil {
		t.Fatal(err)
	}
	check("kadis-2026")
	if _, err := e.svc.LinkSeat(ctx, "sekda-2026", m.ID); err != nil {
		t.Fatal(err)
	}
	check("kadis-2026", "sekda-2026")
	if err := e.svc.UnlinkSeat(ctx, "kadis-2026", m.ID); err != nil {
		t.Fatal(err)
	}
	check("sekda-2026")
}

func testTokenLastUsed(t *testing.T, e *env) {
	ctx := context.Background()
	a := e.confirmed(t, "Calon", "", "calon@example.go.id")
	secret, _ := e.newToken(t, a.ID, "x", 0)
	v := e.svc.TokenVerifier()
	lastUsed := func() time.Time {
		list, err := e.svc.Tokens(ctx, a.ID)
		if err != nil || len(list) != 1 {
			t.Fatalf("tokens: %+v, %v", list, err)
		}
		return list[0].LastUsedAt
	}
	e.clock.Advance(time.Hour)
	first := e.clock.Now()
	for _, step := range []struct {
		advance time.Duration
		want    time.Time
	}{
		{0, first},
		{30 * time.Second, first},
		{29 * time.Second, first},
		{time.Second, first.Add(time.Minute)},
	} {
		e.clock.Advance(step.advance)
		if _, err := v.Verify(ctx, secret); err != nil {
			t.Fatal(err)
		}
		if got := lastUsed(); !got.Equal(step.want) {
			t.Fatalf("after %v: last used %v, want %v", step.advance, got, step.want)
		}
	}
}

func testTooManyTokens(t *testing.T, e *env) {
	ctx := context.Background()
	a := e.confirmed(t, "Calon", "", "calon@example.go.id")
	var last accounts.AccessToken
	for i := range accounts.MaxLiveTokens {
		_, last = e.newToken(t, a.ID, "t"+string(rune('a'+i)), 0)
	}
	_, _, err := e.svc.CreateToken(ctx, a.ID, "satu lagi", 0)
	var fe *accounts.FieldError
	if !errors.As(err, &fe) || fe.Field != accounts.FieldTokenName || fe.Code != accounts.CodeTooMany {
		t.Fatalf("one too many: %v", err)
	}
	if err := e.svc.RevokeToken(ctx, a.ID, last.ID); err != nil {
		t.Fatal(err)
	}
	e.newToken(t, a.ID, "satu lagi", 0)
}

// testTokenStoreDown: a database that cannot answer is not "unauthenticated" (the API says
// "try again later", and the caller keeps their token).
func testTokenStoreDown(t *testing.T, e *env) {
	a := e.confirmed(t, "Calon", "", "calon@example.go.id")
	secret, _ := e.newToken(t, a.ID, "x", 0)
	if err := e.st.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.TokenVerifier().Verify(context.Background(), secret)
	if err == nil || errors.Is(err, auth.ErrUnauthenticated) || strings.Contains(err.Error(), secret) {
		t.Fatalf("store closed: %v", err)
	}
}
