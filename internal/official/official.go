// Package official owns the documents Seleksi issues as public record: their layout as PDF,
// their numbers, their signatures, the durable queue that issues them, and what the public
// verification page shows of them.
//
// A document kind is a Kind: a store kind name, the code its numbers carry, and a Build
// function that reads the store and returns the document's Content. Jobs name the documents
// to issue (the store derives them from its records, or code queues them with
// store.EnqueueOfficialJob); the Issuer's worker loop claims each job, builds, renders, signs
// and stores its document, and retries failures with backoff. Issuing never touches a
// selection's workflow, so a failure here can never block or fail a selection.
package official

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/store"
)

// ErrNothingToIssue is what a Build returns when its records call for no document after all.
var ErrNothingToIssue = errors.New("official: nothing to issue")

// MediaType is the media type of every official document.
const MediaType = "application/pdf"

// Kind is one kind of official document.
type Kind struct {
	// Name is the kind as stored and in the API (store.Official*).
	Name string
	// Code is the kind's part of document numbers (letters and digits).
	Code string
	// Build reads what the document states and returns it. src holds the selection and the
	// job. An error wrapping ErrNothingToIssue marks the job skipped; any other error is
	// retried.
	Build func(ctx context.Context, src Source) (Built, error)
}

// Source is what a Build works from.
type Source struct {
	Store *store.Store
	// Catalog renders stored message codes; PublicURL is where people reach the service.
	Catalog   *i18n.Catalog
	PublicURL string
	Selection store.Selection
	Job       store.OfficialJob
}

// Built is a document's content, and the stage it concerns if any.
type Built struct {
	Content Content
	Stage   string
}

// Options configure an Issuer; zero fields take defaults.
type Options struct {
	// PublicURL is where people reach the service; verification links are
	// PublicURL/verify/{document}.
	PublicURL string
	// NumberPrefix starts every document number: the agency's code.
	NumberPrefix string
	// IssuerUnit is printed under the agency's name.
	IssuerUnit string
	// Catalog renders the message codes of stored records (reasons, enum names).
	Catalog *i18n.Catalog
	// Interval is the pause between rounds that found nothing to do.
	Interval time.Duration
	// Lease is how long a claimed job is reserved; a worker that dies frees it after this.
	Lease time.Duration
	// Share is the largest part of one CPU the running loop spends on documents, from 0.05
	// to 1: after each document it rests (1/Share - 1) times as long as the document took
	// (wall time, the store's writes included, so a slow store slows issuing too).
	// Rendering a PDF costs tens of milliseconds, and a deadline rush queues a proof of
	// registration per application; at full speed the loop would take a core from the
	// submissions it documents. Proofs trail a rush by minutes instead, and the store's
	// writes and the applications are never slowed. IssueOnce never rests.
	Share float64
	// BackoffInitial doubles per failed attempt, up to BackoffMax.
	BackoffInitial, BackoffMax time.Duration
	Now                        func() time.Time
}

// Defaults of Options.
const (
	DefaultInterval       = 5 * time.Second
	DefaultLease          = 2 * time.Minute
	DefaultShare          = 0.25
	DefaultBackoffInitial = 10 * time.Second
	DefaultBackoffMax     = time.Hour
	DefaultNumberPrefix   = "SELEKSI"
	DefaultIssuerUnit     = "Panitia Seleksi Terbuka JPT Pratama / Open Selection Committee"
)

func (o Options) withDefaults() Options {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.Share <= 0 {
		o.Share = DefaultShare
	}
	o.Share = min(max(o.Share, 0.05), 1)
	if o.BackoffInitial <= 0 {
		o.BackoffInitial = DefaultBackoffInitial
	}
	if o.BackoffMax < o.BackoffInitial {
		o.BackoffMax = max(DefaultBackoffMax, o.BackoffInitial)
	}
	if o.NumberPrefix == "" {
		o.NumberPrefix = DefaultNumberPrefix
	}
	if o.IssuerUnit == "" {
		o.IssuerUnit = DefaultIssuerUnit
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Catalog == nil {
		// The shipped catalog parses or no test of this repository passes; a nil catalog
		// would only print codes instead of words.
		if c, err := i18n.NewCatalog(); err == nil {
			o.Catalog = c
		}
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	return o
}

// Issuer issues official documents and checks them.
type Issuer struct {
	store  *store.Store
	signer Signer
	logger *slog.Logger
	opts   Options
	kinds  map[string]Kind
	// registered is set once the signer's keys are in the store (see registerKeys).
	registered atomic.Bool
}

// NewIssuer issues the given kinds (see StandardKinds) with signer.
func NewIssuer(st *store.Store, signer Signer, logger *slog.Logger, opts Options, kinds ...Kind) *Issuer {
	i := &Issuer{store: st, signer: signer, logger: logger, opts: opts.withDefaults(), kinds: map[string]Kind{}}
	for _, k := range kinds {
		i.kinds[k.Name] = k
	}
	return i
}

// Signer is the issuer's signer, whose public keys the service publishes.
func (i *Issuer) Signer() Signer { return i.signer }

// VerifyURL is the public verification page of a document.
func (i *Issuer) VerifyURL(documentID string) string {
	return i.opts.PublicURL + "/verify/" + documentID
}

// Run issues documents until ctx ends. It derives jobs from the store's records at most once
// per Interval (the derivation reads every selection), and rests between documents so that it
// spends at most Options.Share of a CPU.
func (i *Issuer) Run(ctx context.Context) {
	t := time.NewTicker(i.opts.Interval)
	defer t.Stop()
	var derived time.Time
	for {
		derive := time.Since(derived) >= i.opts.Interval
		if derive {
			derived = time.Now()
		}
		r, err := i.round(ctx, derive, true)
		if err != nil && ctx.Err() == nil {
			i.logger.WarnContext(ctx, "official documents round failed", "error", err)
		}
		if ctx.Err() != nil {
			return
		}
		if err == nil && r.Issued+r.Failed+r.Skipped > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Round is what one IssueOnce did.
type Round struct {
	Queued, Issued, Skipped, Failed int
}

// maxPerRound bounds one round, so that a large backlog yields to the stop signal.
const maxPerRound = 20

// IssueOnce queues the jobs the store's records call for, then issues due jobs until none is
// due (at most a bounded number), without resting.
func (i *Issuer) IssueOnce(ctx context.Context) (Round, error) {
	return i.round(ctx, true, false)
}

func (i *Issuer) round(ctx context.Context, derive, pace bool) (Round, error) {
	var r Round
	if err := i.registerKeys(ctx); err != nil {
		return r, err
	}
	if derive {
		n, err := i.store.DeriveOfficialJobs(ctx, i.opts.Now())
		if err != nil {
			return r, err
		}
		r.Queued = int(n)
	}
	for range maxPerRound {
		began := time.Now()
		job, err := i.store.ClaimOfficialJob(ctx, i.opts.Now(), i.opts.Lease)
		if errors.Is(err, store.ErrNotFound) {
			return r, nil
		}
		if err != nil {
			return r, err
		}
		doc, err := i.issue(ctx, job)
		switch {
		case errors.Is(err, ErrNothingToIssue):
			r.Skipped++
			if err := i.store.SkipOfficialJob(ctx, job, err.Error(), i.opts.Now()); err != nil {
				return r, err
			}
		case err != nil:
			r.Failed++
			next := i.opts.Now().Add(i.backoff(job.Attempts))
			i.logger.WarnContext(ctx, "official document not issued; will retry", "selection", job.SelectionID, "kind", job.Kind,
				"subject", job.Subject, "revision", job.Revision, "attempts", job.Attempts, "next_attempt", next, "error", err)
			if err := i.store.FailOfficialJob(ctx, job, err.Error(), next, i.opts.Now()); err != nil {
				return r, err
			}
		default:
			r.Issued++
			i.logger.InfoContext(ctx, "official document issued", "selection", job.SelectionID, "document", doc.ID, "kind", job.Kind)
		}
		if pace && i.opts.Share < 1 {
			rest := time.Duration(float64(time.Since(began)) * (1/i.opts.Share - 1))
			select {
			case <-ctx.Done():
				return r, nil
			case <-time.After(rest):
			}
		}
	}
	return r, nil
}

// backoff is the pause after the attempts-th failure: BackoffInitial doubled per earlier
// failure up to BackoffMax, drawn between half and all of it so that failures spread out.
func (i *Issuer) backoff(attempts int) time.Duration {
	b := i.opts.BackoffInitial
	for n := 1; n < attempts && b < i.opts.BackoffMax; n++ {
		b *= 2
	}
	b = min(b, i.opts.BackoffMax)
	return b/2 + mrand.N(b-b/2+1)
}

// facts is what the registry keeps of a document: everything Render used.
type facts struct {
	Issuer     string  `json:"issuer"`
	IssuerUnit string  `json:"issuerUnit"`
	Number     string  `json:"number"`
	Issued     string  `json:"issued"`
	Zone       string  `json:"zone"`
	VerifyURL  string  `json:"verifyUrl"`
	Content    Content `json:"content"`
}

func (f facts) meta() (Meta, error) {
	t, err := time.Parse(time.RFC3339Nano, f.Issued)
	if err != nil {
		return Meta{}, fmt.Errorf("official: issue time %q: %w", f.Issued, err)
	}
	return Meta{Issuer: f.Issuer, IssuerUnit: f.IssuerUnit, Number: f.Number, Issued: t, Location: ZoneLocation(f.Zone), VerifyURL: f.VerifyURL}, nil
}

func (i *Issuer) issue(ctx context.Context, job store.OfficialJob) (store.OfficialDocument, error) {
	kind, ok := i.kinds[job.Kind]
	if !ok {
		return store.OfficialDocument{}, fmt.Errorf("official: no kind %q is configured", job.Kind)
	}
	sel, err := i.store.GetSelection(ctx, job.SelectionID)
	if err != nil {
		return store.OfficialDocument{}, err
	}
	built, err := kind.Build(ctx, Source{Store: i.store, Catalog: i.opts.Catalog, PublicURL: i.opts.PublicURL, Selection: sel, Job: job})
	if err != nil {
		return store.OfficialDocument{}, fmt.Errorf("official: build %s: %w", job.Kind, err)
	}
	number := fmt.Sprintf("%s/%s/%s/%04d", i.opts.NumberPrefix, kind.Code, sel.ID, job.Seq)
	id := DocumentID(number)
	f := facts{Issuer: sel.Agency, IssuerUnit: i.opts.IssuerUnit, Number: number, Issued: job.IssueTime.UTC().Format(time.RFC3339Nano),
		Zone: sel.TimeZone, VerifyURL: i.VerifyURL(id), Content: built.Content}
	pdf, err := renderFacts(f)
	if err != nil {
		return store.OfficialDocument{}, err
	}
	sig, err := i.signer.Sign(ctx, pdf)
	if err != nil {
		return store.OfficialDocument{}, fmt.Errorf("official: sign %s: %w", number, err)
	}
	fb, err := json.Marshal(f)
	if err != nil {
		return store.OfficialDocument{}, fmt.Errorf("official: encode facts of %s: %w", number, err)
	}
	sum := sha256.Sum256(pdf)
	return i.store.CompleteOfficialJob(ctx, job, store.OfficialDocument{
		ID: id, Number: number, Stage: built.Stage, Issuer: sel.Agency, IssueTime: job.IssueTime, SHA256: hex.EncodeToString(sum[:]),
		Signature: base64.StdEncoding.EncodeToString(sig), KeyID: i.signer.KeyID(), Algorithm: i.signer.Algorithm(),
		MediaType: MediaType, Content: pdf, Facts: string(fb),
	}, i.opts.Now())
}

func renderFacts(f facts) ([]byte, error) {
	m, err := f.meta()
	if err != nil {
		return nil, err
	}
	return Render(m, f.Content)
}

// DocumentID is the URL-safe name of the document with a number: lower case, every run of
// other characters than letters and digits one hyphen.
func DocumentID(number string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(number) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimRight(b.String(), "-")
}

// ZoneLocation is the fixed zone of a selection's time zone (the API's TimeZone enum name):
// Indonesia keeps no daylight saving time, and a fixed zone renders the same with or without
// the system's time zone database.
func ZoneLocation(zone string) *time.Location {
	switch strings.TrimPrefix(zone, "TIME_ZONE_") {
	case "WITA":
		return time.FixedZone("WITA", 8*3600)
	case "WIT":
		return time.FixedZone("WIT", 9*3600)
	case "WIB":
		return time.FixedZone("WIB", 7*3600)
	}
	return time.UTC
}

// Check is what verifying a stored document found.
type Check struct {
	// DigestMatches: the stored PDF has the recorded SHA-256.
	DigestMatches bool
	// SignatureValid: the signature verifies against the PDF with the recorded key.
	SignatureValid bool
	// Reproducible: rendering the recorded facts again gives the same bytes.
	Reproducible bool
}

// Valid reports whether the document is authentic: its digest and signature hold.
func (c Check) Valid() bool { return c.DigestMatches && c.SignatureValid }

// Verify checks a stored document (read with its content): its digest, its signature and
// that its facts render to the same bytes.
func (i *Issuer) Verify(ctx context.Context, d store.OfficialDocument) (Check, error) {
	var c Check
	sum := sha256.Sum256(d.Content)
	c.DigestMatches = hex.EncodeToString(sum[:]) == d.SHA256
	sig, err := base64.StdEncoding.DecodeString(d.Signature)
	if err == nil {
		c.SignatureValid = i.signer.Verify(ctx, d.KeyID, d.Content, sig) == nil
	}
	var f facts
	if err := json.Unmarshal([]byte(d.Facts), &f); err != nil {
		return c, fmt.Errorf("official: facts of %s: %w", d.ID, err)
	}
	again, err := renderFacts(f)
	if err != nil {
		return c, err
	}
	c.Reproducible = string(again) == string(d.Content)
	return c, nil
}

func sha256Sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}
