package oidc

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bkpsdm/seleksi/internal/auth"
)

// privilege orders roles for a person whose claims map to several: the most privileged
// wins, so a secretariat member who is also in a committee group signs in as admin.
var privilege = []auth.Role{auth.RoleAdmin, auth.RoleAuditor, auth.RoleCommittee, auth.RoleCandidate}

// identity maps verified claims to an Identity.
func (p *Provider) identity(issuer, subject string, claims map[string]any) (Identity, error) {
	id := Identity{Issuer: issuer, Subject: subject}
	id.Name = claimString(claims, "name")
	if id.Name == "" {
		id.Name = strings.TrimSpace(claimString(claims, "given_name") + " " + claimString(claims, "family_name"))
	}
	if id.Name == "" {
		id.Name = claimString(claims, "preferred_username")
	}
	id.Email = claimString(claims, "email")
	id.EmailVerified, _ = claims["email_verified"].(bool)

	role, err := mapRole(claimValues(lookup(claims, p.cfg.RoleClaim)), p.cfg.RoleMap, p.cfg.DefaultRole)
	if err != nil {
		return Identity{}, fmt.Errorf("%w (claim %q)", err, p.cfg.RoleClaim)
	}
	id.Role = role
	if role == auth.RoleCommittee && p.cfg.SelectionsClaim != "" {
		id.Selections = claimValues(lookup(claims, p.cfg.SelectionsClaim))
	}
	return id, nil
}

// mapRole picks the most privileged role any of values maps to, or def.
func mapRole(values []string, m map[string]auth.Role, def auth.Role) (auth.Role, error) {
	best := -1
	for _, v := range values {
		r, ok := m[v]
		if !ok {
			continue
		}
		if i := slices.Index(privilege, r); i >= 0 && (best < 0 || i < best) {
			best = i
		}
	}
	if best >= 0 {
		return privilege[best], nil
	}
	if def != "" {
		return def, nil
	}
	return "", ErrNoRole
}

// lookup finds a claim by its name, or else by a dotted path into nested objects
// ("realm_access.roles"). Names are tried whole first: claim names may themselves hold dots
// (URLs as names are common).
func lookup(claims map[string]any, name string) any {
	if v, ok := claims[name]; ok {
		return v
	}
	var cur any = claims
	for part := range strings.SplitSeq(name, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		if cur, ok = m[part]; !ok {
			return nil
		}
	}
	return cur
}

// claimValues reads a claim as a list of strings: a string is one value, a list its string
// members, an object its keys (sorted, for a stable result).
func claimValues(v any) []string {
	switch v := v.(type) {
	case string:
		if v == "" {
			return nil
		}
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	case map[string]any:
		out := make([]string, 0, len(v))
		for k := range v {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	return nil
}

func claimString(claims map[string]any, name string) string {
	s, _ := claims[name].(string)
	return s
}
