package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// countingVerifier accepts the tokens in ok (as their principal) and counts its calls.
type countingVerifier struct {
	mu    sync.Mutex
	calls map[string]int
	ok    map[string]Principal
}

func (v *countingVerifier) Verify(_ context.Context, token string) (Principal, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.calls[token]++
	p, ok := v.ok[token]
	if !ok {
		return Principal{}, fmt.Errorf("%w: not this one", ErrUnauthenticated)
	}
	return p, nil
}

// clock is a settable time for the cache.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestCache(t *testing.T) {
	key, err := LoadOrCreateLocalKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	mint := func(sub string, ttl time.Duration) string {
		tok, err := key.Mint(MintOptions{Subject: sub, Role: RoleCommittee, Selections: []string{"sel-1"}, TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	hour, minute := mint("member-1", time.Hour), mint("member-2", time.Minute)
	const noExpiry = "seleksi_pat_not_a_jwt"
	p := Principal{Issuer: LocalIssuer, Subject: "member-1", Role: RoleCommittee, Selections: []string{"sel-1"}}
	newVerifier := func() (*countingVerifier, *clock, Verifier) {
		inner := &countingVerifier{calls: map[string]int{}, ok: map[string]Principal{hour: p, minute: p, noExpiry: p}}
		c := &clock{t: time.Now()}
		return inner, c, NewCache(inner, CacheOptions{MaxAge: 10 * time.Minute, Now: c.now})
	}
	tests := []struct {
		name  string
		token string
		// later is how long after the first verification the second one happens.
		later     time.Duration
		wantCalls int
		wantErr   bool
	}{
		{"the same token again is verified once", hour, time.Second, 1, false},
		{"no longer than MaxAge", hour, 11 * time.Minute, 2, false},
		{"no longer than the token's expiry", minute, 2 * time.Minute, 2, false},
		{"a token without expiry is never remembered", noExpiry, time.Second, 2, false},
		{"a rejection is never remembered", "not-a-token", time.Second, 2, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inner, c, v := newVerifier()
			ctx := context.Background()
			first, err := v.Verify(ctx, tc.token)
			if (err != nil) != tc.wantErr {
				t.Fatalf("first Verify: %v, want error %v", err, tc.wantErr)
			}
			c.t = c.t.Add(tc.later)
			second, err := v.Verify(ctx, tc.token)
			if (err != nil) != tc.wantErr {
				t.Fatalf("second Verify: %v, want error %v", err, tc.wantErr)
			}
			if err == nil && (second.Subject != first.Subject || second.Role != first.Role || len(second.Selections) != 1 || second.Selections[0] != "sel-1") {
				t.Errorf("second Verify gave %+v, want %+v", second, first)
			}
			if got := inner.calls[tc.token]; got != tc.wantCalls {
				t.Errorf("inner verifier called %d times, want %d", got, tc.wantCalls)
			}
		})
	}

	t.Run("what a caller changes stays its own", func(t *testing.T) {
		_, _, v := newVerifier()
		got, err := v.Verify(context.Background(), hour)
		if err != nil {
			t.Fatal(err)
		}
		got.Selections[0] = "sel-other"
		again, err := v.Verify(context.Background(), hour)
		if err != nil {
			t.Fatal(err)
		}
		if again.Selections[0] != "sel-1" {
			t.Errorf("cached principal changed to %v by a caller", again.Selections)
		}
	})

	t.Run("bounded size", func(t *testing.T) {
		inner := &countingVerifier{calls: map[string]int{}, ok: map[string]Principal{}}
		v := NewCache(inner, CacheOptions{Size: 10}).(*cache)
		for i := range 35 {
			tok := mint(fmt.Sprintf("cand-%d", i), time.Hour)
			inner.ok[tok] = p
			if _, err := v.Verify(context.Background(), tok); err != nil {
				t.Fatal(err)
			}
			if n := len(v.entries); n > 10 {
				t.Fatalf("after %d tokens the cache holds %d, more than its size 10", i+1, n)
			}
		}
	})

	t.Run("the inner verifier's error comes through", func(t *testing.T) {
		_, _, v := newVerifier()
		if _, err := v.Verify(context.Background(), "nope"); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("Verify of an unknown token: %v, want ErrUnauthenticated", err)
		}
	})
}
