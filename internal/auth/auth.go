// Package auth owns identity: bearer tokens (JWT) and who they say the caller is. It mints
// and verifies tokens signed with the embedded default's local key, verifies tokens from an
// agency's OIDC identity provider through its JWKS, and carries the verified Principal in
// the request context. What each role may do is decided at the gRPC edge (internal/server);
// which records a principal owns is decided with the store's data, not here.
package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Role is what a caller is to Seleksi.
type Role string

// Roles.
const (
	// RoleAdmin is the secretariat (BKPSDM): creates selections, records the appointment.
	RoleAdmin Role = "admin"
	// RoleCommittee is a member of the selection committee (Pansel) of given selections.
	RoleCommittee Role = "committee"
	// RoleCandidate is an applicant: sees and acts on their own applications only.
	RoleCandidate Role = "candidate"
	// RoleAuditor reads everything and changes nothing.
	RoleAuditor Role = "auditor"
)

// Roles lists every role, in a stable order.
func Roles() []Role { return []Role{RoleAdmin, RoleCommittee, RoleCandidate, RoleAuditor} }

// ParseRole accepts the name of a role.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !slices.Contains(Roles(), r) {
		return "", fmt.Errorf("unknown role %q: want admin, committee, candidate or auditor", s)
	}
	return r, nil
}

// Principal is a verified caller.
type Principal struct {
	// Issuer is who vouches for the subject (the token's iss claim): together they name one
	// person, whom the store knows by an opaque actor ID (see internal/store's ActorID).
	Issuer string
	// Subject identifies the person: a candidate's account or NIP, a member's ID. It is
	// personal data: it is never logged or sent to Temporal.
	Subject string
	Role    Role
	// Selections are the selections a committee member sits on; empty for other roles.
	Selections []string
}

// SitsOn reports whether a committee principal is a member of the selection.
func (p Principal) SitsOn(selectionID string) bool {
	return p.Role == RoleCommittee && slices.Contains(p.Selections, selectionID)
}

// ErrUnauthenticated is returned for a missing, malformed, expired or untrusted token.
// Its wrapped text says why, for the logs; clients are told only that they are not
// authenticated.
var ErrUnauthenticated = errors.New("unauthenticated")

// Verifier turns a bearer token into a Principal.
type Verifier interface {
	Verify(ctx context.Context, token string) (Principal, error)
}

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the verified principal of the request, if any.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// FirstOf is a Verifier that accepts a token any of vs accepts, asking them in order: the
// agency's identity provider for its own tokens, and the local key for the short-lived
// tokens the web application mints for the people signed in to it.
func FirstOf(vs ...Verifier) Verifier { return firstOf(vs) }

type firstOf []Verifier

func (f firstOf) Verify(ctx context.Context, token string) (Principal, error) {
	var errs []error
	for _, v := range f {
		p, err := v.Verify(ctx, token)
		if err == nil {
			return p, nil
		}
		errs = append(errs, err)
	}
	return Principal{}, fmt.Errorf("%w: %w", ErrUnauthenticated, errors.Join(errs...))
}
