package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"gorm.io/gorm"
)

// Listing follows AIP-158 (pagination), AIP-160 (a small subset of filtering) and AIP-132
// (order_by). Pages are found by keyset, never by OFFSET: the page token carries the sort key
// of the last row returned, so a page costs an index seek whatever its depth, and rows
// inserted while a client pages never shift or repeat the rows it has not seen yet.

// Page sizes.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// ListOptions are a list request's paging, filter and order.
type ListOptions struct {
	// PageSize is the most rows to return: 0 means DefaultPageSize, more than MaxPageSize is
	// capped to it, negative is invalid.
	PageSize  int
	PageToken string
	// Filter is empty or conditions of the form `field = VALUE` joined by AND.
	Filter string
	// OrderBy is empty (the default order) or one whitelisted field, optionally followed by
	// "desc".
	OrderBy string
	// Owner, when set, keeps only the rows this actor ID (see ActorID) owns: a candidate lists
	// their own applications. Lists without owners ignore it.
	Owner string
}

// Page is one page of a list.
type Page[T any] struct {
	Items         []T
	NextPageToken string
	// TotalSize counts the rows matching the filter when the first page was read; later pages
	// carry that count in their token rather than counting again.
	TotalSize int64
}

// keyKind is the type of one sort-key column, for decoding it from a page token.
type keyKind int

const (
	keyString keyKind = iota
	keyTime
	keyInt
)

// orderSpec is one whitelisted order: its columns (the last one unique, so the order is
// total) and their direction.
type orderSpec struct {
	columns []string
	kinds   []keyKind
	desc    bool
}

// fieldSpec is one filterable field: its column and the normalization of its values.
type fieldSpec struct {
	column    string
	normalize func(string) (string, bool)
}

// cond is one parsed `field = value` condition.
type cond struct {
	column string
	value  string
}

// pageToken is what the opaque token holds: the last row's sort key and the total. The token
// is authenticated: an HMAC under the store's page-token key covers it together with the
// list it came from (see listQuery.shape), so a forged or altered token, or one taken from
// another list (another parent, owner, filter or order), is refused.
type pageToken struct {
	Key   []string `json:"k"`
	Total int64    `json:"t"`
}

// pageTokenMAC is how many bytes of HMAC-SHA256 a token carries: 128 bits are beyond
// guessing, and keep tokens short.
const pageTokenMAC = 16

// pageTokenDomain separates page-token MACs from anything else the key might ever sign.
const pageTokenDomain = "seleksi-page-token/v1"

// macPageToken is the MAC under key of a token's payload for the list whose shape is given.
func macPageToken(key []byte, shape string, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(pageTokenDomain + "\x00" + shape + "\x00"))
	m.Write(payload)
	return m.Sum(nil)[:pageTokenMAC]
}

// encodePageToken seals a token for the list: its MAC followed by its JSON, in base64url.
func (s *Store) encodePageToken(shape string, tok pageToken) (string, error) {
	payload, err := json.Marshal(tok)
	if err != nil {
		return "", fmt.Errorf("page token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(append(macPageToken(s.pageKeys[0], shape, payload), payload...)), nil
}

// decodePageToken opens a token of the list, refusing one this store did not issue for it.
func (s *Store) decodePageToken(shape, raw string) (pageToken, error) {
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(b) <= pageTokenMAC {
		return pageToken{}, badOption(FieldPageToken, "malformed")
	}
	mac, payload := b[:pageTokenMAC], b[pageTokenMAC:]
	// Tokens carry no key ID: they are short-lived and opaque, and trying the few keys of a
	// rotation costs an HMAC each.
	if !slices.ContainsFunc(s.pageKeys, func(key []byte) bool { return hmac.Equal(mac, macPageToken(key, shape, payload)) }) {
		return pageToken{}, badOption(FieldPageToken, "not issued for this list (forged, altered, or from another filter, order or parent)")
	}
	var tok pageToken
	if err := json.Unmarshal(payload, &tok); err != nil {
		return pageToken{}, badOption(FieldPageToken, "malformed")
	}
	return tok, nil
}

// listQuery is a validated list request.
type listQuery struct {
	size  int
	conds []cond
	order orderSpec
	// shape names the list: its scope (the collection, its parent and owner), its filter and
	// its order. Page tokens are authenticated together with it.
	shape string
	after []any
	total int64
	// selects, when set, are the page query's columns (the count ignores them).
	selects string
}

// Fields of a list request, as OptionError names them.
const (
	FieldPageSize  = "page_size"
	FieldPageToken = "page_token"
	FieldFilter    = "filter"
	FieldOrderBy   = "order_by"
)

// OptionError is an invalid paging, filter or order option of a list request. It names the
// field, so that the API can tell the client which one to fix without passing on this
// package's wording.
type OptionError struct {
	Field  string
	detail string
}

func (e *OptionError) Error() string { return e.Field + ": " + e.detail }

// Unwrap makes an OptionError an ErrInvalidArgument.
func (e *OptionError) Unwrap() error { return ErrInvalidArgument }

func badOption(field, format string, args ...any) error {
	return &OptionError{Field: field, detail: fmt.Sprintf(format, args...)}
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrInvalidArgument)
}

// newListQuery validates opts for one list (scope names it, including its parent).
func (s *Store) newListQuery(scope string, opts ListOptions, fields func(string) (fieldSpec, bool),
	orders func(string) (orderSpec, bool), defaultOrder string) (*listQuery, error) {
	q := &listQuery{size: opts.PageSize}
	switch {
	case q.size < 0:
		return nil, badOption(FieldPageSize, "must not be negative")
	case q.size == 0:
		q.size = DefaultPageSize
	case q.size > MaxPageSize:
		q.size = MaxPageSize
	}
	conds, canonFilter, err := parseFilter(opts.Filter, fields)
	if err != nil {
		return nil, err
	}
	q.conds = conds
	orderName := strings.Join(strings.Fields(strings.ToLower(opts.OrderBy)), " ")
	if orderName == "" {
		orderName = defaultOrder
	}
	o, ok := orders(orderName)
	if !ok {
		return nil, badOption(FieldOrderBy, "cannot order by %q", opts.OrderBy)
	}
	q.order = o
	// JSON keeps the parts apart whatever a filter's quoted value holds.
	shape, err := json.Marshal([]string{scope, canonFilter, orderName})
	if err != nil {
		return nil, fmt.Errorf("list shape: %w", err)
	}
	q.shape = string(shape)
	if opts.PageToken == "" {
		return q, nil
	}
	tok, err := s.decodePageToken(q.shape, opts.PageToken)
	if err != nil {
		return nil, err
	}
	if len(tok.Key) != len(o.columns) {
		return nil, badOption(FieldPageToken, "malformed")
	}
	q.total = tok.Total
	for i, v := range tok.Key {
		switch o.kinds[i] {
		case keyTime:
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return nil, badOption(FieldPageToken, "malformed")
			}
			q.after = append(q.after, instant(t))
		case keyInt:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, badOption(FieldPageToken, "malformed")
			}
			q.after = append(q.after, n)
		default:
			q.after = append(q.after, v)
		}
	}
	return q, nil
}

// runList reads one page of rows R from base (already restricted to the parent). key
// returns a row's sort-key values in the order's column order.
func runList[R any](s *Store, q *listQuery, base *gorm.DB, key func(*R) []any) ([]R, string, int64, error) {
	for _, c := range q.conds {
		base = base.Where(c.column+" = ?", c.value)
	}
	total := q.total
	if q.after == nil {
		if err := base.Session(&gorm.Session{}).Count(&total).Error; err != nil {
			return nil, "", 0, fmt.Errorf("count: %w", err)
		}
	}
	cols := strings.Join(q.order.columns, ", ")
	dir, cmp := "", ">"
	if q.order.desc {
		dir, cmp = " DESC", "<"
	}
	page := base
	if q.selects != "" {
		page = page.Select(q.selects)
	}
	if q.after != nil {
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(q.after)), ", ")
		page = page.Where("("+cols+") "+cmp+" ("+marks+")", q.after...)
	}
	orders := make([]string, len(q.order.columns))
	for i, c := range q.order.columns {
		orders[i] = c + dir
	}
	var rows []R
	if err := page.Order(strings.Join(orders, ", ")).Limit(q.size + 1).Find(&rows).Error; err != nil {
		return nil, "", 0, fmt.Errorf("query: %w", err)
	}
	if len(rows) <= q.size {
		return rows, "", total, nil
	}
	rows = rows[:q.size]
	vals := key(&rows[len(rows)-1])
	tok := pageToken{Total: total}
	for _, v := range vals {
		switch x := v.(type) {
		case time.Time:
			tok.Key = append(tok.Key, instant(x).Format(time.RFC3339Nano))
		case int64:
			tok.Key = append(tok.Key, strconv.FormatInt(x, 10))
		case string:
			tok.Key = append(tok.Key, x)
		default:
			return nil, "", 0, fmt.Errorf("page token: unexpected key %T", v)
		}
	}
	next, err := s.encodePageToken(q.shape, tok)
	if err != nil {
		return nil, "", 0, err
	}
	return rows, next, total, nil
}

// parseFilter parses `field = value [AND field = value]...`. Values are enum names, bare or
// in double quotes; the short form ("SUBMITTED") is accepted for the full one
// ("APPLICATION_STATE_SUBMITTED"). Anything else (OR, NOT, comparisons, functions, unknown
// fields) is rejected rather than guessed at. It returns the conditions and a canonical
// rendering for the page-token hash.
func parseFilter(filter string, fields func(string) (fieldSpec, bool)) ([]cond, string, error) {
	toks, err := lexFilter(filter)
	if err != nil {
		return nil, "", err
	}
	if len(toks) == 0 {
		return nil, "", nil
	}
	var (
		conds []cond
		canon []string
	)
	for i := 0; ; {
		if len(toks)-i < 3 || toks[i+1] != "=" {
			return nil, "", badOption(FieldFilter, "%q: want conditions of the form `field = VALUE` joined by AND", filter)
		}
		f, ok := fields(toks[i])
		if !ok {
			return nil, "", badOption(FieldFilter, "%q: cannot filter on %q", filter, toks[i])
		}
		v, ok := f.normalize(strings.Trim(toks[i+2], `"`))
		if !ok {
			return nil, "", badOption(FieldFilter, "%q: %q is not a valid value of %s", filter, toks[i+2], toks[i])
		}
		conds = append(conds, cond{column: f.column, value: v})
		canon = append(canon, toks[i]+"="+v)
		i += 3
		if i == len(toks) {
			break
		}
		if toks[i] != "AND" {
			return nil, "", badOption(FieldFilter, "%q: only AND may join conditions", filter)
		}
		i++
	}
	return conds, strings.Join(canon, " AND "), nil
}

// lexFilter splits a filter into words, "=" and quoted strings.
func lexFilter(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := rune(s[i])
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '=':
			toks = append(toks, "=")
			i++
		case c == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return nil, badOption(FieldFilter, "%q: unterminated string", s)
			}
			toks = append(toks, s[i:i+j+2])
			i += j + 2
		case c == '_' || c == '-' || c == '.' || unicode.IsLetter(c) || unicode.IsDigit(c):
			j := i
			for j < len(s) && (s[j] == '_' || s[j] == '-' || s[j] == '.' || unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j]))) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		default:
			return nil, badOption(FieldFilter, "%q: unexpected %q", s, string(c))
		}
	}
	return toks, nil
}

// enumValue accepts a value of an enum whose names start with prefix, in full or without the
// prefix, and reports whether known accepts it.
func enumValue(prefix string, known func(string) bool) func(string) (string, bool) {
	return func(v string) (string, bool) {
		v = strings.ToUpper(v)
		if !strings.HasPrefix(v, prefix) {
			v = prefix + v
		}
		return v, known(v)
	}
}

// Known enum values, the API's proto names.

func knownStage(v string) bool {
	switch v {
	case "STAGE_SCHEDULED", "STAGE_ANNOUNCEMENT", "STAGE_ADMINISTRATIVE_SCREENING", "STAGE_COMPETENCY_TEST", "STAGE_INTERVIEW",
		"STAGE_COMMITTEE_DECISION", "STAGE_CLOSED", "STAGE_CANCELLED":
		return true
	}
	return false
}

func knownState(v string) bool {
	switch v {
	case StateSubmitted, StateInProgress, StateEliminated, StateWithdrawn, StateShortlisted, StateAppointed, StateNotSelected:
		return true
	}
	return false
}

func knownRole(v string) bool {
	switch v {
	case "ROLE_ADMIN", "ROLE_COMMITTEE", "ROLE_CANDIDATE", "ROLE_AUDITOR", "ROLE_SYSTEM":
		return true
	}
	return false
}

func anyValue(v string) (string, bool) { return v, v != "" }

// Application states the store itself sets or looks at.
const (
	StateSubmitted   = "APPLICATION_STATE_SUBMITTED"
	StateInProgress  = "APPLICATION_STATE_IN_PROGRESS"
	StateEliminated  = "APPLICATION_STATE_ELIMINATED"
	StateWithdrawn   = "APPLICATION_STATE_WITHDRAWN"
	StateShortlisted = "APPLICATION_STATE_SHORTLISTED"
	StateAppointed   = "APPLICATION_STATE_APPOINTED"
	StateNotSelected = "APPLICATION_STATE_NOT_SELECTED"
	// StageAnnouncement is where a new selection starts and the only stage that takes
	// applications.
	StageAnnouncement = "STAGE_ANNOUNCEMENT"
	// StageScheduled is where a selection announced ahead of time waits for its announcement.
	StageScheduled = "STAGE_SCHEDULED"
)

// Filterable fields and orders of each list.

func applicationFields(name string) (fieldSpec, bool) {
	switch name {
	case "state":
		return fieldSpec{"state", enumValue("APPLICATION_STATE_", knownState)}, true
	case "stage", "current_stage":
		return fieldSpec{"current_stage", enumValue("STAGE_", knownStage)}, true
	}
	return fieldSpec{}, false
}

// candidateName is the sort key of the applications' candidate.full_name order. A
// correlated subquery rather than a join keeps the list's other column names unambiguous.
const candidateName = "(SELECT candidates.full_name FROM candidates WHERE candidates.id = applications.candidate_id)"

// applicationOrders are the orders ListApplications documents (submit_time, final_score,
// candidate.full_name), each ascending or descending, plus the resource name (id).
func applicationOrders(name string) (orderSpec, bool) {
	field, desc := orderField(name)
	switch field {
	case "submit_time":
		return orderSpec{columns: []string{"submitted_at", "id"}, kinds: []keyKind{keyTime, keyString}, desc: desc}, true
	case "final_score":
		return orderSpec{columns: []string{"final_score", "id"}, kinds: []keyKind{keyInt, keyString}, desc: desc}, true
	case "participant_number":
		// The sequence, not the rendered text: "P10" follows "P9".
		return orderSpec{columns: []string{"participant_seq", "id"}, kinds: []keyKind{keyInt, keyString}, desc: desc}, true
	case "candidate.full_name":
		return orderSpec{columns: []string{candidateName, "id"}, kinds: []keyKind{keyString, keyString}, desc: desc}, true
	case "name", "id":
		return orderSpec{columns: []string{"id"}, kinds: []keyKind{keyString}, desc: desc}, true
	}
	return orderSpec{}, false
}

// orderField splits a normalized order_by ("field", "field asc" or "field desc").
func orderField(name string) (field string, desc bool) {
	field, dir, _ := strings.Cut(name, " ")
	switch dir {
	case "", "asc":
		return field, false
	case "desc":
		return field, true
	}
	return "", false
}

// selectionFields are the fields ListSelections documents: stage, agency and time_zone.
func selectionFields(name string) (fieldSpec, bool) {
	switch name {
	case "stage":
		return fieldSpec{"stage", enumValue("STAGE_", knownStage)}, true
	case "agency":
		return fieldSpec{"agency", anyValue}, true
	case "time_zone":
		return fieldSpec{"time_zone", enumValue("TIME_ZONE_", func(v string) bool {
			return v == "TIME_ZONE_WIB" || v == "TIME_ZONE_WITA" || v == "TIME_ZONE_WIT"
		})}, true
	}
	return fieldSpec{}, false
}

// The stage_close_time order: selections whose announcement window is open come first (0),
// by the window's close; the others, whose stages the committee closes by advancing, have no
// close time and follow (1) by creation time. Every sort column is then non-null, which the
// keyset comparison needs.
const (
	stageCloses    = "(CASE WHEN stage = 'STAGE_ANNOUNCEMENT' AND window_closes IS NOT NULL THEN 0 ELSE 1 END)"
	stageCloseTime = "(CASE WHEN stage = 'STAGE_ANNOUNCEMENT' AND window_closes IS NOT NULL THEN window_closes ELSE created_at END)"
)

// selectionOrders are the orders ListSelections documents (create_time, stage_close_time,
// position_title), each ascending or descending, plus the resource name (id).
func selectionOrders(name string) (orderSpec, bool) {
	field, desc := orderField(name)
	switch field {
	case "create_time":
		return orderSpec{columns: []string{"created_at", "id"}, kinds: []keyKind{keyTime, keyString}, desc: desc}, true
	case "stage_close_time":
		return orderSpec{columns: []string{stageCloses, stageCloseTime, "id"}, kinds: []keyKind{keyInt, keyTime, keyString}, desc: desc}, true
	case "position_title":
		return orderSpec{columns: []string{"position_title", "id"}, kinds: []keyKind{keyString, keyString}, desc: desc}, true
	case "name", "id":
		return orderSpec{columns: []string{"id"}, kinds: []keyKind{keyString}, desc: desc}, true
	}
	return orderSpec{}, false
}

func auditFields(name string) (fieldSpec, bool) {
	switch name {
	case "action":
		return fieldSpec{"action", anyValue}, true
	case "role":
		return fieldSpec{"role", enumValue("ROLE_", knownRole)}, true
	}
	return fieldSpec{}, false
}

func auditOrders(name string) (orderSpec, bool) {
	if name == "seq" || name == "sequence" {
		return orderSpec{columns: []string{"seq"}, kinds: []keyKind{keyInt}}, true
	}
	return orderSpec{}, false
}

func objectionFields(name string) (fieldSpec, bool) {
	switch name {
	case "stage":
		return fieldSpec{"stage", enumValue("STAGE_", knownStage)}, true
	case "state":
		return fieldSpec{"state", enumValue("OBJECTION_STATE_", func(v string) bool {
			return v == "OBJECTION_STATE_PENDING" || v == "OBJECTION_STATE_ACCEPTED" || v == "OBJECTION_STATE_REJECTED"
		})}, true
	}
	return fieldSpec{}, false
}

func objectionOrders(name string) (orderSpec, bool) {
	if name == "file_time" || name == "create_time" {
		return orderSpec{columns: []string{"filed_at", "id"}, kinds: []keyKind{keyTime, keyString}}, true
	}
	return orderSpec{}, false
}
