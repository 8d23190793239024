package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// testAccessTokens covers the token rows: found by the secret's hash only, at most maxLive
// live tokens per account, revocation by the owner only, and the last use written at most
// once per interval.
func testAccessTokens(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	acc := AccountRecord{ID: "acc_tok", Issuer: "seleksi-local", Subject: "akun-tok", Role: "candidate", Email: "tok@example.go.id", CreatedAt: t0}
	if _, err := s.CreateAccount(ctx, acc, nil); err != nil {
		t.Fatal(err)
	}
	other := AccountRecord{ID: "acc_other", Issuer: "seleksi-local", Subject: "akun-other", Role: "candidate", CreatedAt: t0}
	if _, err := s.CreateAccount(ctx, other, nil); err != nil {
		t.Fatal(err)
	}
	tok := func(id, hash string, created time.Time, ttl time.Duration) AccessTokenRecord {
		return AccessTokenRecord{ID: id, AccountID: acc.ID, Name: "skrip " + id, SecretHash: hash, CreatedAt: created, ExpiresAt: created.Add(ttl)}
	}

	for _, tc := range []struct {
		name string
		rec  AccessTokenRecord
		want error
	}{
		{"no hash", tok("tok_x", "", t0, time.Hour), ErrInvalidArgument},
		{"no lifetime", tok("tok_x", "hx", t0, 0), ErrInvalidArgument},
		{"no account", AccessTokenRecord{ID: "tok_x", AccountID: "acc_none", Name: "x", SecretHash: "hx", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}, ErrNotFound},
	} {
		if _, err := s.CreateAccessToken(ctx, tc.rec, 2); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}

	got, err := s.CreateAccessToken(ctx, tok("tok_1", "h1", t0, 24*time.Hour), 2)
	if err != nil || got.ID != "tok_1" || !got.ExpiresAt.Equal(t0.Add(24*time.Hour)) || !got.LastUsedAt.IsZero() {
		t.Fatalf("create: %+v, %v", got, err)
	}
	if _, err := s.CreateAccessToken(ctx, tok("tok_2", "h1", t0, time.Hour), 2); err == nil {
		t.Fatal("a second token with the same secret hash was stored")
	}
	if _, err := s.CreateAccessToken(ctx, tok("tok_2", "h2", t0.Add(time.Minute), time.Hour), 2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAccessToken(ctx, tok("tok_3", "h3", t0.Add(2*time.Minute), time.Hour), 2); !errors.Is(err, ErrTooManyAccessTokens) ||
		!errors.Is(err, ErrFailedPrecondition) {
		t.Fatalf("third live token: %v", err)
	}
	// Once tok_2 has expired, a new one fits.
	if _, err := s.CreateAccessToken(ctx, tok("tok_3", "h3", t0.Add(2*time.Hour), time.Hour), 2); err != nil {
		t.Fatalf("after one expired: %v", err)
	}

	list, err := s.AccessTokensOfAccount(ctx, acc.ID)
	if err != nil || len(list) != 3 || list[0].ID != "tok_3" || list[2].ID != "tok_1" {
		t.Fatalf("list: %+v, %v", list, err)
	}
	if l, err := s.AccessTokensOfAccount(ctx, other.ID); err != nil || len(l) != 0 {
		t.Fatalf("other's list: %+v, %v", l, err)
	}

	found, owner, err := s.AccessTokenBySecretHash(ctx, "h1")
	if err != nil || found.ID != "tok_1" || owner.ID != acc.ID || owner.Subject != acc.Subject {
		t.Fatalf("by hash: %+v %+v %v", found, owner, err)
	}
	for _, h := range []string{"", "h9"} {
		if _, _, err := s.AccessTokenBySecretHash(ctx, h); !errors.Is(err, ErrNotFound) {
			t.Fatalf("by hash %q: %v", h, err)
		}
	}

	// The last use is written at most once a minute.
	used := t0.Add(3 * time.Hour)
	for i, at := range []time.Time{used, used.Add(30 * time.Second), used.Add(61 * time.Second)} {
		if err := s.TouchAccessToken(ctx, "tok_1", at, time.Minute); err != nil {
			t.Fatalf("touch %d: %v", i, err)
		}
	}
	found, _, _ = s.AccessTokenBySecretHash(ctx, "h1")
	if !found.LastUsedAt.Equal(used.Add(61 * time.Second)) {
		t.Fatalf("last used %v, want %v", found.LastUsedAt, used.Add(61*time.Second))
	}
	if err := s.TouchAccessToken(ctx, "tok_1", used.Add(90*time.Second), time.Minute); err != nil {
		t.Fatal(err)
	}
	if found, _, _ = s.AccessTokenBySecretHash(ctx, "h1"); !found.LastUsedAt.Equal(used.Add(61 * time.Second)) {
		t.Fatalf("last used moved within the minute: %v", found.LastUsedAt)
	}

	// Only the owner revokes; revoking twice is fine; a revoked token leaves the list but
	// its row stays, found by hash with its revocation time.
	if err := s.RevokeAccessToken(ctx, other.ID, "tok_1", used); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoke by another account: %v", err)
	}
	if err := s.RevokeAccessToken(ctx, acc.ID, "tok_none", used); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoke a missing token: %v", err)
	}
	for range 2 {
		if err := s.RevokeAccessToken(ctx, acc.ID, "tok_1", used); err != nil {
			t.Fatalf("revoke: %v", err)
		}
	}
	found, _, err = s.AccessTokenBySecretHash(ctx, "h1")
	if err != nil || !found.RevokedAt.Equal(used) || found.Live(used) {
		t.Fatalf("revoked token: %+v, %v", found, err)
	}
	if list, _ := s.AccessTokensOfAccount(ctx, acc.ID); len(list) != 2 {
		t.Fatalf("list after revoke: %+v", list)
	}
}

// testAccessTokensMigrationDown: migration 00019 can be rolled back with tokens stored, and
// applied again.
func testAccessTokensMigrationDown(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	if _, err := s.CreateAccount(ctx, AccountRecord{ID: "acc_1", Issuer: "seleksi-local", Subject: "akun-1", Role: "committee", CreatedAt: t0}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateAccessToken(ctx, AccessTokenRecord{ID: "tok_1", AccountID: "acc_1", Name: "x", SecretHash: "h", CreatedAt: t0,
		ExpiresAt: t0.Add(time.Hour)}, 0); err != nil {
		t.Fatal(err)
	}
	p, err := s.migrationProvider(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 18); err != nil {
		t.Fatalf("down: %v", err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if n := count(t, s, "access_tokens", "1 = 1"); n != 0 {
		t.Fatalf("%d tokens after down and up", n)
	}
}
