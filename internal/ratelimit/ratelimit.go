// Package ratelimit owns how often callers may call Seleksi: a token bucket per client address
// and per subject for each class of request (reads, mutations) and one per address for failed
// token verifications, the bound on the memory those buckets take, and the answer a limited
// caller gets: HTTP 429 with Retry-After, or RESOURCE_EXHAUSTED with google.rpc.RetryInfo, in
// the caller's language. Refusals are reported in aggregate, never one log line per request.
package ratelimit

import (
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rate is a token bucket: up to Events requests at once, refilled at Events per Per. The zero
// Rate allows everything.
type Rate struct {
	Events int
	Per    time.Duration
}

// Off reports whether the rate allows everything.
func (r Rate) Off() bool { return r.Events <= 0 || r.Per <= 0 }

func (r Rate) String() string {
	if r.Off() {
		return "off"
	}
	per := r.Per.String()
	switch {
	case r.Per%time.Hour == 0:
		per = strconv.Itoa(int(r.Per/time.Hour)) + "h"
	case r.Per%time.Minute == 0:
		per = strconv.Itoa(int(r.Per/time.Minute)) + "m"
	}
	return strconv.Itoa(r.Events) + "/" + per
}

// ParseRate reads "N/DURATION" (a bucket of N refilled over DURATION, as in "100/10s": bursts
// of 100, 10 a second sustained) or "off".
func ParseRate(s string) (Rate, error) {
	if strings.EqualFold(strings.TrimSpace(s), "off") {
		return Rate{}, nil
	}
	n, per, ok := strings.Cut(s, "/")
	events, err := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err != nil || events <= 0 {
		return Rate{}, fmt.Errorf("%q: want N/DURATION (as in 100/10s) or off", s)
	}
	d, err := time.ParseDuration(strings.TrimSpace(per))
	if err != nil || d <= 0 {
		return Rate{}, fmt.Errorf("%q: want N/DURATION (as in 100/10s) or off", s)
	}
	return Rate{Events: events, Per: d}, nil
}

// Class is the kind of request a bucket counts.
type Class int

// Classes of requests. Reads are what REST serves with GET; everything else is a mutation.
const (
	Read Class = iota
	Mutation
)

// Policy is every limit Seleksi applies.
type Policy struct {
	// AddressReads and AddressMutations limit each client address (an IPv6 client by its /64,
	// which a single host usually holds whole).
	AddressReads     Rate
	AddressMutations Rate
	// AuthFailures limits the bearer tokens an address may have refused: once spent, a bad
	// token is answered RESOURCE_EXHAUSTED instead of UNAUTHENTICATED, and not logged.
	AuthFailures Rate
	// SubjectReads and SubjectMutations limit each authenticated person, from wherever they
	// call.
	SubjectReads     Rate
	SubjectMutations Rate
}

// maxKeys bounds each bucket set. At a few hundred bytes a bucket, the five sets stay under
// about 100 MB even when an attacker spreads requests over millions of addresses; past the
// bound, arbitrary buckets are forgotten (their callers start again with a full bucket).
const maxKeys = 100_000

// reportEvery is how often refusals are summed up in the log.
const reportEvery = time.Minute

// Limiter holds callers to a Policy.
type Limiter struct {
	logger *slog.Logger
	now    func() time.Time

	addressReads, addressMutations, authFailures *buckets
	subjectReads, subjectMutations               *buckets

	methods sync.Map // full gRPC method name -> Class
}

// New returns a Limiter for the policy; now is the clock (time.Now outside tests).
func New(p Policy, logger *slog.Logger, now func() time.Time) *Limiter {
	return &Limiter{
		logger:           logger,
		now:              now,
		addressReads:     newBuckets("address_reads", p.AddressReads, maxKeys),
		addressMutations: newBuckets("address_mutations", p.AddressMutations, maxKeys),
		authFailures:     newBuckets("auth_failures", p.AuthFailures, maxKeys),
		subjectReads:     newBuckets("subject_reads", p.SubjectReads, maxKeys),
		subjectMutations: newBuckets("subject_mutations", p.SubjectMutations, maxKeys),
	}
}

// refusal is a request a bucket refused: which limit, and how long until it would pass.
type refusal struct {
	limit      string
	retryAfter time.Duration
}

func (l *Limiter) address(a netip.Addr, c Class) *refusal {
	b := l.addressReads
	if c == Mutation {
		b = l.addressMutations
	}
	return b.take(l, addressKey(a))
}

func (l *Limiter) subject(subject string, c Class) *refusal {
	b := l.subjectReads
	if c == Mutation {
		b = l.subjectMutations
	}
	return b.take(l, subject)
}

// addressKey groups IPv6 addresses by /64: a host gets a whole /64 and could otherwise call
// from a fresh address every time.
func addressKey(a netip.Addr) string {
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// buckets is one set of token buckets by key (an address or a subject).
type buckets struct {
	name    string
	rate    Rate
	limit   rate.Limit
	maxKeys int

	mu        sync.Mutex
	entries   map[string]*entry
	lastSweep time.Time
	// Refusals since lastReport: how many, and from how many keys (a key whose bucket was
	// swept in between counts again, so this is an upper bound).
	refused, refusedKeys int
	lastReport           time.Time
}

type entry struct {
	lim  *rate.Limiter
	seen time.Time
	// refused is set when the key was refused since the last report, to count keys once.
	refused bool
}

// newBuckets returns the set for r, or nil (allowing everything) when r is off.
func newBuckets(name string, r Rate, maxKeys int) *buckets {
	if r.Off() {
		return nil
	}
	return &buckets{
		name:    name,
		rate:    r,
		limit:   rate.Limit(float64(r.Events) / r.Per.Seconds()),
		maxKeys: maxKeys,
		entries: map[string]*entry{},
	}
}

// take spends a token of key's bucket, or says how long until one is there.
func (b *buckets) take(l *Limiter, key string) *refusal {
	if b == nil {
		return nil
	}
	now := l.now()
	b.mu.Lock()
	if now.Sub(b.lastSweep) >= b.sweepEvery() {
		b.sweep(now)
	}
	e := b.entries[key]
	if e == nil {
		if len(b.entries) >= b.maxKeys {
			b.sweep(now)
			// Still full: forget an arbitrary bucket (map order is random) rather than grow.
			for k := range b.entries {
				if len(b.entries) < b.maxKeys {
					break
				}
				delete(b.entries, k)
			}
		}
		e = &entry{lim: rate.NewLimiter(b.limit, b.rate.Events)}
		b.entries[key] = e
	}
	e.seen = now
	r := e.lim.ReserveN(now, 1)
	delay := r.DelayFrom(now)
	if delay == 0 {
		b.mu.Unlock()
		return nil
	}
	r.CancelAt(now)
	b.refused++
	if !e.refused {
		e.refused = true
		b.refusedKeys++
	}
	var report func()
	if now.Sub(b.lastReport) >= reportEvery {
		report = b.reportLocked(l.logger, now)
	}
	b.mu.Unlock()
	if report != nil {
		report()
	}
	return &refusal{limit: b.name, retryAfter: delay}
}

// sweepEvery is how often idle buckets are dropped: once per refill period, at most every
// ten seconds.
func (b *buckets) sweepEvery() time.Duration { return max(b.rate.Per, 10*time.Second) }

// sweep drops every bucket that has been idle for a whole refill period: it is full again,
// exactly like the new bucket its key would get, so forgetting it changes nothing.
func (b *buckets) sweep(now time.Time) {
	b.lastSweep = now
	for k, e := range b.entries {
		if now.Sub(e.seen) >= b.rate.Per {
			delete(b.entries, k)
		}
	}
}

// reportLocked sums up the refusals since the last report in one log line (to write once the
// lock is released). Addresses and subjects are not named: subjects can be personal data.
func (b *buckets) reportLocked(logger *slog.Logger, now time.Time) func() {
	refused, keys, since := b.refused, b.refusedKeys, b.lastReport
	b.refused, b.refusedKeys, b.lastReport = 0, 0, now
	for _, e := range b.entries {
		e.refused = false
	}
	attrs := []any{"limit", b.name, "rate", b.rate.String(), "refused", refused, "callers", keys, "tracked", len(b.entries)}
	if !since.IsZero() {
		attrs = append(attrs, "since", since.UTC().Format(time.RFC3339))
	}
	return func() { logger.Warn("rate limit refused requests", attrs...) }
}

// size is how many buckets the set holds, for tests.
func (b *buckets) size() int {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.entries)
}
