package oidc

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/bkpsdm/seleksi/internal/auth"
)

// TestClaimMapping covers the claim shapes of providers the example provider cannot emit:
// Keycloak's realm_access.roles, a groups list, Zitadel's role object, URL-named claims.
func TestClaimMapping(t *testing.T) {
	const claims = `{
		"sub": "s1",
		"groups": ["staf", "pansel-2027", "bkpsdm-sekretariat"],
		"realm_access": {"roles": ["offline_access", "pansel"]},
		"urn:zitadel:iam:org:project:roles": {"auditor-inspektorat": {"123": "pemda.example"}},
		"https://seleksi.example/role": "pansel",
		"selections": ["sel-1", "sel-2"],
		"one_selection": "sel-9",
		"given_name": "Ani", "family_name": "Lestari", "email": "ani@example", "email_verified": true
	}`
	var m map[string]any
	if err := json.Unmarshal([]byte(claims), &m); err != nil {
		t.Fatal(err)
	}
	roles := map[string]auth.Role{
		"bkpsdm-sekretariat":  auth.RoleAdmin,
		"pansel":              auth.RoleCommittee,
		"pansel-2027":         auth.RoleCommittee,
		"auditor-inspektorat": auth.RoleAuditor,
	}
	for _, tc := range []struct {
		name, roleClaim, selectionsClaim string
		def                              auth.Role
		wantRole                         auth.Role
		wantSelections                   []string
		wantErr                          error
	}{
		{name: "most privileged of a list", roleClaim: "groups", wantRole: auth.RoleAdmin},
		{name: "dotted path into an object", roleClaim: "realm_access.roles", selectionsClaim: "selections",
			wantRole: auth.RoleCommittee, wantSelections: []string{"sel-1", "sel-2"}},
		{name: "keys of an object", roleClaim: "urn:zitadel:iam:org:project:roles", selectionsClaim: "selections", wantRole: auth.RoleAuditor},
		{name: "a claim named by a URL with dots", roleClaim: "https://seleksi.example/role", selectionsClaim: "one_selection",
			wantRole: auth.RoleCommittee, wantSelections: []string{"sel-9"}},
		{name: "missing claim, default role", roleClaim: "seleksi_role", def: auth.RoleCandidate, wantRole: auth.RoleCandidate},
		{name: "missing claim, no default", roleClaim: "seleksi_role", wantErr: ErrNoRole},
		{name: "path through a non-object", roleClaim: "groups.x", wantErr: ErrNoRole},
		{name: "no value mapped", roleClaim: "email", wantErr: ErrNoRole},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Provider{cfg: Config{RoleClaim: tc.roleClaim, RoleMap: roles, DefaultRole: tc.def, SelectionsClaim: tc.selectionsClaim}}
			id, err := p.identity("https://sso.example/", "s1", m)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if id.Role != tc.wantRole || !slices.Equal(id.Selections, tc.wantSelections) ||
				id.Name != "Ani Lestari" || id.Email != "ani@example" || !id.EmailVerified {
				t.Errorf("identity %+v, want role %s selections %v", id, tc.wantRole, tc.wantSelections)
			}
		})
	}
}
