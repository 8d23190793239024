package oidc_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bkpsdm/seleksi/internal/accounts/oidc"
	"github.com/bkpsdm/seleksi/internal/accounts/oidc/oidctest"
	"github.com/bkpsdm/seleksi/internal/auth"
)

// The provider's accounts. The example provider carries no custom claims per user, so
// roles are mapped from the e-mail claim here; production maps a group or role claim.
var (
	sekretariat = oidctest.User{ID: "u-sekretariat", Username: "sri", Password: "rahasia-1",
		FirstName: "Sri", LastName: "Wahyuni", Email: "sri@bkpsdm.example", EmailVerified: true}
	pansel = oidctest.User{ID: "u-pansel", Username: "budi", Password: "rahasia-2",
		FirstName: "Budi", LastName: "Santoso", Email: "budi@bkpsdm.example", EmailVerified: true}
	pelamar = oidctest.User{ID: "u-pelamar", Username: "ani", Password: "rahasia-3",
		FirstName: "Ani", LastName: "Lestari", Email: "ani@mail.example"}
)

func startProvider(t *testing.T) *oidctest.Server {
	t.Helper()
	return oidctest.Start(t, sekretariat, pansel, pelamar)
}

func config(s *oidctest.Server) oidc.Config {
	return oidc.Config{
		Issuer:       s.Issuer,
		ClientID:     s.ClientID,
		ClientSecret: s.ClientSecret,
		RedirectURL:  s.RedirectURL,
		RoleClaim:    "email",
		RoleMap: map[string]auth.Role{
			"sri@bkpsdm.example": auth.RoleAdmin,
		},
	}
}

func newProvider(t *testing.T, c oidc.Config) *oidc.Provider {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	p, err := oidc.New(ctx, c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// signIn runs Begin and the provider's login for user, and returns the pending secrets
// and the callback's query, not yet finished.
func signIn(t *testing.T, s *oidctest.Server, p *oidc.Provider, u oidctest.User) (oidc.Pending, url.Values) {
	t.Helper()
	authURL, pending, err := p.Begin()
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	q, err := s.Browser(t).Login(t.Context(), authURL, u.Username, u.Password)
	if err != nil {
		t.Fatalf("login as %s: %v", u.Username, err)
	}
	return pending, q
}

func TestSignIn(t *testing.T) {
	s := startProvider(t)
	tests := []struct {
		name   string
		user   oidctest.User
		config func(*oidc.Config)
		want   oidc.Identity
	}{
		{
			name: "role from a string claim",
			user: sekretariat,
			want: oidc.Identity{Subject: "u-sekretariat", Role: auth.RoleAdmin, Name: "Sri Wahyuni",
				Email: "sri@bkpsdm.example", EmailVerified: true},
		},
		{
			// custom_claim = {"client": "web", "other": "stuff"}, from userinfo.
			name: "role and selections from a nested object claim",
			user: pansel,
			config: func(c *oidc.Config) {
				c.Scopes = []string{"profile", "email", "custom_scope"}
				c.RoleClaim = "custom_claim.client"
				c.RoleMap = map[string]auth.Role{"web": auth.RoleCommittee}
				c.SelectionsClaim = "custom_claim.other"
			},
			want: oidc.Identity{Subject: "u-pansel", Role: auth.RoleCommittee, Selections: []string{"stuff"},
				Name: "Budi Santoso", Email: "budi@bkpsdm.example", EmailVerified: true},
		},
		{
			name:   "unmapped account gets the default role",
			user:   pelamar,
			config: func(c *oidc.Config) { c.DefaultRole = auth.RoleCandidate },
			want: oidc.Identity{Subject: "u-pelamar", Role: auth.RoleCandidate, Name: "Ani Lestari",
				Email: "ani@mail.example", EmailVerified: false},
		},
		{
			name: "selections are read for committee members only",
			user: sekretariat,
			config: func(c *oidc.Config) {
				c.Scopes = []string{"profile", "email", "custom_scope"}
				c.SelectionsClaim = "custom_claim.other"
			},
			want: oidc.Identity{Subject: "u-sekretariat", Role: auth.RoleAdmin, Name: "Sri Wahyuni",
				Email: "sri@bkpsdm.example", EmailVerified: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config(s)
			if tt.config != nil {
				tt.config(&c)
			}
			p := newProvider(t, c)
			start := time.Now()
			pending, q := signIn(t, s, p, tt.user)
			got, err := p.Finish(t.Context(), pending, q)
			if err != nil {
				t.Fatalf("Finish: %v", err)
			}
			t.Logf("sign-in (begin, login, finish) took %s", time.Since(start).Round(time.Millisecond))
			tt.want.Issuer = s.Issuer
			if got.Issuer != tt.want.Issuer || got.Subject != tt.want.Subject || got.Role != tt.want.Role ||
				got.Name != tt.want.Name || got.Email != tt.want.Email || got.EmailVerified != tt.want.EmailVerified ||
				!slices.Equal(got.Selections, tt.want.Selections) {
				t.Errorf("identity:\n got %+v\nwant %+v", got, tt.want)
			}
			if pr := got.Principal(); pr.Subject != tt.want.Subject || pr.Role != tt.want.Role {
				t.Errorf("principal %+v", pr)
			}
		})
	}
}

func TestAuthorizationRequest(t *testing.T) {
	s := startProvider(t)
	p := newProvider(t, config(s))
	authURL, pending, err := p.Begin()
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for k, want := range map[string]string{
		"response_type":         "code",
		"client_id":             s.ClientID,
		"redirect_uri":          s.RedirectURL,
		"scope":                 "openid profile email",
		"state":                 pending.State,
		"nonce":                 pending.Nonce,
		"code_challenge_method": "S256",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if q.Get("code_challenge") == "" || strings.Contains(authURL, pending.Verifier) {
		t.Errorf("want a code challenge and no verifier in %s", authURL)
	}
	_, other, err := p.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if other.State == pending.State || other.Nonce == pending.Nonce || other.Verifier == pending.Verifier {
		t.Error("two sign-ins share a secret")
	}
	if len(pending.State) < 43 || len(pending.Nonce) < 43 || len(pending.Verifier) < 43 {
		t.Errorf("secrets shorter than 256 bits: %+v", pending)
	}
}

func TestSignInRefused(t *testing.T) {
	s := startProvider(t)
	c := config(s)
	p := newProvider(t, c)

	t.Run("wrong state, then the right one", func(t *testing.T) {
		pending, q := signIn(t, s, p, sekretariat)
		forged := url.Values{"code": {q.Get("code")}, "state": {"forged"}}
		if _, err := p.Finish(t.Context(), pending, forged); !errors.Is(err, oidc.ErrStateMismatch) {
			t.Fatalf("forged state: %v, want ErrStateMismatch", err)
		}
		// A refused callback does not spend the code: the real one still signs in.
		if _, err := p.Finish(t.Context(), pending, q); err != nil {
			t.Fatalf("real callback after a forged one: %v", err)
		}
	})
	t.Run("no sign-in begun in this session", func(t *testing.T) {
		_, q := signIn(t, s, p, sekretariat)
		if _, err := p.Finish(t.Context(), oidc.Pending{}, q); !errors.Is(err, oidc.ErrStateMismatch) {
			t.Fatalf("empty pending: %v, want ErrStateMismatch", err)
		}
	})
	t.Run("replayed code", func(t *testing.T) {
		pending, q := signIn(t, s, p, sekretariat)
		if _, err := p.Finish(t.Context(), pending, q); err != nil {
			t.Fatalf("first Finish: %v", err)
		}
		_, err := p.Finish(t.Context(), pending, q)
		if pe, ok := errors.AsType[*oidc.ProviderError](err); !ok || pe.Endpoint != "token" || pe.Code != "invalid_grant" {
			t.Fatalf("replayed code: %v, want the token endpoint's invalid_grant", err)
		}
	})
	t.Run("nonce mismatch", func(t *testing.T) {
		pending, q := signIn(t, s, p, sekretariat)
		pending.Nonce = "another-sign-in"
		if _, err := p.Finish(t.Context(), pending, q); !errors.Is(err, oidc.ErrNonceMismatch) {
			t.Fatalf("nonce: %v, want ErrNonceMismatch", err)
		}
	})
	t.Run("wrong PKCE verifier", func(t *testing.T) {
		pending, q := signIn(t, s, p, sekretariat)
		_, other, err := p.Begin()
		if err != nil {
			t.Fatal(err)
		}
		pending.Verifier = other.Verifier
		_, err = p.Finish(t.Context(), pending, q)
		if pe, ok := errors.AsType[*oidc.ProviderError](err); !ok || pe.Code != "invalid_grant" {
			t.Fatalf("wrong verifier: %v, want invalid_grant", err)
		}
	})
	t.Run("unmapped role", func(t *testing.T) {
		pending, q := signIn(t, s, p, pelamar)
		if _, err := p.Finish(t.Context(), pending, q); !errors.Is(err, oidc.ErrNoRole) {
			t.Fatalf("unmapped: %v, want ErrNoRole", err)
		}
	})
	t.Run("expired sign-in", func(t *testing.T) {
		pending, q := signIn(t, s, p, sekretariat)
		pending.Created = pending.Created.Add(-oidc.DefaultMaxPending - time.Second)
		if _, err := p.Finish(t.Context(), pending, q); !errors.Is(err, oidc.ErrExpired) {
			t.Fatalf("old pending: %v, want ErrExpired", err)
		}
	})
	t.Run("wrong client secret", func(t *testing.T) {
		bad := c
		bad.ClientSecret = "not-the-secret"
		pb := newProvider(t, bad)
		pending, q := signIn(t, s, pb, sekretariat)
		_, err := pb.Finish(t.Context(), pending, q)
		if pe, ok := errors.AsType[*oidc.ProviderError](err); !ok || pe.Endpoint != "token" {
			t.Fatalf("wrong secret: %v, want a token endpoint error", err)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		authURL, _, err := p.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Browser(t).Login(t.Context(), authURL, sekretariat.Username, "wrong"); !errors.Is(err, oidctest.ErrLoginRefused) {
			t.Fatalf("wrong password: %v, want the login form again", err)
		}
	})
	t.Run("provider answers with an error", func(t *testing.T) {
		// prompt=none asks the provider not to show a login page; without a session there it
		// must answer login_required at the callback (OpenID Connect Core §3.1.2.6).
		authURL, pending, err := p.Begin()
		if err != nil {
			t.Fatal(err)
		}
		q, err := s.Browser(t).Open(t.Context(), authURL+"&prompt=none")
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Finish(t.Context(), pending, q)
		if pe, ok := errors.AsType[*oidc.ProviderError](err); !ok || pe.Endpoint != "authorization" || pe.Code != "login_required" {
			t.Fatalf("prompt=none: %v, want login_required", err)
		}
	})
}

func TestNew(t *testing.T) {
	s := startProvider(t)
	t.Run("issuer must match discovery", func(t *testing.T) {
		c := config(s)
		c.Issuer = strings.TrimSuffix(s.Issuer, "/")
		if _, err := oidc.New(t.Context(), c); err == nil || !strings.Contains(err.Error(), "issuer") {
			t.Fatalf("issuer without its slash: %v, want an issuer mismatch", err)
		}
	})
	for name, change := range map[string]func(*oidc.Config){
		"relative redirect":   func(c *oidc.Config) { c.RedirectURL = "/auth/oidc/callback" },
		"unknown mapped role": func(c *oidc.Config) { c.RoleMap = map[string]auth.Role{"g": "root"} },
		"unknown default":     func(c *oidc.Config) { c.DefaultRole = "root" },
		"nobody can sign in":  func(c *oidc.Config) { c.RoleMap = nil },
		"no client ID":        func(c *oidc.Config) { c.ClientID = "" },
	} {
		t.Run(name, func(t *testing.T) {
			c := config(s)
			change(&c)
			if _, err := oidc.New(t.Context(), c); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
