package cli

import (
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
)

// validID mirrors the API's resource ID pattern `^[a-z0-9][a-z0-9-]{2,62}$`, so that a
// mistyped ID is reported with the argument it came from.
func validID(s string) bool {
	if len(s) < 3 || len(s) > 63 {
		return false
	}
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' && i > 0) {
			return false
		}
	}
	return true
}

// selectionName accepts a selection ID or its resource name and returns the resource name.
func selectionName(arg string) (string, error) {
	id := strings.TrimPrefix(arg, "selections/")
	if !validID(id) {
		return "", usageErrorf("%q is not a selection ID (3 to 63 lowercase letters, digits and hyphens)", arg)
	}
	return "selections/" + id, nil
}

// applicationIn accepts an application ID or a full application name within the selection
// sel (a resource name) and returns the full name.
func applicationIn(sel, arg string) (string, error) {
	if strings.HasPrefix(arg, "selections/") {
		name, err := applicationName(arg)
		if err != nil {
			return "", err
		}
		if !strings.HasPrefix(name, sel+"/") {
			return "", usageErrorf("application %s is not in %s", name, sel)
		}
		return name, nil
	}
	if !validID(arg) {
		return "", usageErrorf("%q is not an application ID (3 to 63 lowercase letters, digits and hyphens)", arg)
	}
	return sel + "/applications/" + arg, nil
}

// applicationName accepts `selections/S/applications/A` or the short form `S/A`.
func applicationName(arg string) (string, error) {
	parts, ok := splitName(arg, "applications")
	if !ok || len(parts) != 2 || !validID(parts[0]) || !validID(parts[1]) {
		return "", usageErrorf("%q is not an application name: want selections/SELECTION/applications/APP or SELECTION/APP", arg)
	}
	return "selections/" + parts[0] + "/applications/" + parts[1], nil
}

// objectionParent is an application name, or `selections/S/applications/-` (short `S/-`) for
// every objection of a selection.
func objectionParent(arg string) (string, error) {
	parts, ok := splitName(arg, "applications")
	if ok && len(parts) == 2 && validID(parts[0]) && parts[1] == "-" {
		return "selections/" + parts[0] + "/applications/-", nil
	}
	return applicationName(arg)
}

// objectionName accepts `selections/S/applications/A/objections/O` or the short form `S/A/O`.
func objectionName(arg string) (string, error) {
	parts, ok := splitName(arg, "applications", "objections")
	if !ok || len(parts) != 3 || !validID(parts[0]) || !validID(parts[1]) || !validID(parts[2]) {
		return "", usageErrorf("%q is not an objection name: want selections/S/applications/A/objections/O or S/A/O", arg)
	}
	return "selections/" + parts[0] + "/applications/" + parts[1] + "/objections/" + parts[2], nil
}

// splitName returns the IDs of a resource name `selections/ID/<collection>/ID...` or of its
// short form `ID/ID...`.
func splitName(arg string, collections ...string) ([]string, bool) {
	rest, full := strings.CutPrefix(arg, "selections/")
	segs := strings.Split(rest, "/")
	if !full {
		return segs, true
	}
	if len(segs) != 2*len(collections)+1 {
		return nil, false
	}
	ids := []string{segs[0]}
	for i, c := range collections {
		if segs[2*i+1] != c {
			return nil, false
		}
		ids = append(ids, segs[2*i+2])
	}
	return ids, true
}

// parseEnum accepts an enum value by its full name (STAGE_INTERVIEW), without the type's
// prefix (INTERVIEW), or as a slug (interview, competency-test), ignoring case. The zero
// value never matches: the API treats it as "not set".
func parseEnum(ed protoreflect.EnumDescriptor, s string) (protoreflect.EnumNumber, bool) {
	norm := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", "_"))
	prefix := enumPrefix(ed)
	if !strings.HasPrefix(norm, prefix) {
		norm = prefix + norm
	}
	v := ed.Values().ByName(protoreflect.Name(norm))
	if v == nil || v.Number() == 0 {
		return 0, false
	}
	return v.Number(), true
}

// enumPrefix is the common prefix of an enum's value names, taken from its zero value
// (STAGE_UNSPECIFIED gives STAGE_).
func enumPrefix(ed protoreflect.EnumDescriptor) string {
	zero := string(ed.Values().ByNumber(0).Name())
	return strings.TrimSuffix(zero, "UNSPECIFIED")
}

// enumSlug is the value's name without the prefix, lowercase with hyphens: how tables show
// enums and how the API names stage results.
func enumSlug(ed protoreflect.EnumDescriptor, n protoreflect.EnumNumber) string {
	v := ed.Values().ByNumber(n)
	if v == nil || n == 0 {
		return ""
	}
	return strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(string(v.Name()), enumPrefix(ed)), "_", "-"))
}

// enumChoices lists an enum's slugs for error messages.
func enumChoices(ed protoreflect.EnumDescriptor) string {
	var s []string
	for i := range ed.Values().Len() {
		if n := ed.Values().Get(i).Number(); n != 0 {
			s = append(s, enumSlug(ed, n))
		}
	}
	return strings.Join(s, ", ")
}

func parseStage(s string) (seleksiv1.Stage, error) {
	ed := seleksiv1.Stage(0).Descriptor()
	n, ok := parseEnum(ed, s)
	if !ok {
		return 0, usageErrorf("unknown stage %q: want one of %s", s, enumChoices(ed))
	}
	return seleksiv1.Stage(n), nil
}

func stageSlug(s seleksiv1.Stage) string { return enumSlug(s.Descriptor(), s.Number()) }

func slug(e interface {
	Descriptor() protoreflect.EnumDescriptor
	Number() protoreflect.EnumNumber
}) string {
	return enumSlug(e.Descriptor(), e.Number())
}
