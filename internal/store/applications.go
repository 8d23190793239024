package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// submission is the content a request ID stands for: a retry must carry the same.
type submission struct {
	SelectionID string          `json:"selectionId"`
	ID          string          `json:"id,omitempty"`
	Candidate   Candidate       `json:"candidate"`
	Profile     json.RawMessage `json:"profile"`
	Documents   []DocumentRef   `json:"documents"`
	Statement   string          `json:"statement"`
	Facts       Facts           `json:"facts"`
}

// SubmitApplication takes one application while the projected announcement window is open, in
// one transaction, which it may share with other submissions to the same selection (a group
// commit, see intake.go) though never with their failures: it checks the window against in.Now, refuses a second application by the
// same candidate (token subject or NIP), checks the documents it names (checkDocumentRefs: a
// *DocumentsError names every problem, required documents missing included), and stores the
// candidate's personal data, the application with its documents' descriptions, attaches the
// documents to it and appends its audit event. It is idempotent by request ID: a retry with the same
// content returns the first result (even after the window has closed), the same request ID
// with other content is ErrConflict. A closed window is ErrFailedPrecondition.
func (s *Store) SubmitApplication(ctx context.Context, in SubmitInput) (Application, error) {
	op := fmt.Sprintf("store: submit application to selection %q", in.SelectionID)
	in, reqSHA, err := prepareSubmission(in)
	if err != nil {
		return Application{}, fmt.Errorf("%s: %w", op, err)
	}
	out, err := s.submit(ctx, in, reqSHA)
	if err != nil {
		return Application{}, fmt.Errorf("%s: %w", op, err)
	}
	if out.app == nil {
		return s.answerApplication(ctx, in.SelectionID, out.id)
	}
	// A new application is answered from the rows just committed, as GetApplication
	// would read them back: in a rush every read spent here is CPU the writes lack.
	app, err := out.app.application()
	if err != nil {
		return Application{}, fmt.Errorf("%s: %w", op, err)
	}
	app.Candidate = out.cand.candidate()
	return app, nil
}

// submitted is the outcome of one submission: the application's ID and, when it is new, the
// rows stored for it (a retry of a stored request has none).
type submitted struct {
	id   string
	app  *applicationRow
	cand *candidateRow
}

// prepareSubmission checks a submission, fills in its defaults and returns it with its
// digest, which a retry of the same request must match.
func prepareSubmission(in SubmitInput) (SubmitInput, string, error) {
	if err := validateSubmission(in); err != nil {
		return in, "", err
	}
	if err := checkText(in); err != nil {
		return in, "", err
	}
	if len(in.Profile) == 0 {
		in.Profile = json.RawMessage("{}")
	}
	if in.Documents == nil {
		in.Documents = []DocumentRef{}
	}
	reqSHA, _, err := digestJSON(submission{in.SelectionID, in.ID, in.Candidate, in.Profile, in.Documents, in.Statement, in.Facts})
	if err != nil {
		return in, "", fmt.Errorf("%w: %w", err, ErrInvalidArgument)
	}
	return in, reqSHA, nil
}

// submitInTx is one submission in tx (see SubmitApplication), which it may share with the
// other submissions of g. reqSHA is the digest of the submission. The rows every
// submission adds to the same tables (its audit event and the selection's new head, its
// proof-of-registration job and its notification) are left in g, which writes them for all
// of its submissions at once (flush).
func (s *Store) submitInTx(tx *gorm.DB, g *submitGroup, in SubmitInput, reqSHA string) (submitted, error) {
	now := instant(in.Now)
	sel, err := g.lock(s, tx)
	if err != nil {
		return submitted{}, err
	}
	prior, dup, err := priorSubmission(tx, in)
	if err != nil {
		return submitted{}, err
	}
	if prior != nil {
		if prior.RequestSHA256 != reqSHA {
			return submitted{}, fmt.Errorf("request ID %q was used for a different application: %w", in.RequestID, ErrConflict)
		}
		return submitted{id: prior.ID}, nil
	}
	if why := sel.windowOpen(now); why != "" {
		return submitted{}, fmt.Errorf("%s: %w", why, ErrFailedPrecondition)
	}
	if dup != "" {
		return submitted{}, fmt.Errorf("%s: %w", dup, ErrConflict)
	}
	required, err := sel.requiredKinds()
	if err != nil {
		return submitted{}, err
	}
	docs, err := checkDocumentRefs(tx, in.SelectionID, required, in.Owner, in.Documents)
	if err != nil {
		// A safeguard: under the selection's lock no other submission commits after the
		// duplicate check, but if the candidate's own other application holds the
		// documents, say that they applied, not that the documents are taken.
		if again, derr := duplicateCandidate(tx, in); derr == nil && again != "" {
			return submitted{}, fmt.Errorf("%s: %w", again, ErrConflict)
		}
		return submitted{}, err
	}
	appID := in.ID
	if appID == "" {
		appID = newID("app-")
	}
	cand := candidateRow{
		ID: newID("cand-"), SelectionID: in.SelectionID, Subject: in.Candidate.Subject, FullName: in.Candidate.FullName,
		NIP: in.Candidate.NIP, Email: in.Candidate.Email, Phone: in.Candidate.Phone, BirthDate: in.Candidate.BirthDate,
		CreatedAt: now,
	}
	if err := tx.Create(&cand).Error; err != nil {
		return submitted{}, conflictOr(err, "candidate")
	}
	seq, number, err := g.nextParticipant(tx, in)
	if err != nil {
		return submitted{}, err
	}
	profile, _ := CanonicalJSON(in.Profile) // validated by digestJSON above
	docsJSON, _ := json.Marshal(docs)
	facts, _ := json.Marshal(in.Facts)
	app := applicationRow{
		ID: appID, SelectionID: in.SelectionID, CandidateID: cand.ID, Owner: in.Owner,
		RequestID: in.RequestID, RequestSHA256: reqSHA, Profile: string(profile), Documents: string(docsJSON),
		Statement: in.Statement, Facts: string(facts), State: StateSubmitted, CurrentStage: StageAnnouncement,
		ParticipantSeq: seq, ParticipantNumber: number, SubmittedAt: now, UpdatedAt: now,
	}
	if err := tx.Create(&app).Error; err != nil {
		return submitted{}, conflictOr(err, "application")
	}
	if err := attachDocuments(tx, appID, docs, now); err != nil {
		return submitted{}, err
	}
	// The proof of registration is issued by internal/official's worker; queuing it
	// here, with the application, means no submission is ever left without one.
	job := newOfficialJob(in.SelectionID, OfficialRegistrationProof, appID, 1, now)
	// The audit event holds no personal data: the request digest binds it to the full
	// submission, which stays in the candidate and application rows.
	ev, err := nextAuditRow(sel, auditInput{
		UpdateID: in.RequestID, Actor: Actor{Subject: in.Owner, Role: "ROLE_CANDIDATE"},
		Action: ActionSubmitApplication, Target: "selections/" + in.SelectionID + "/applications/" + appID,
		WorkflowTime: now,
		Payload: map[string]any{"applicationId": appID, "requestId": in.RequestID, "requestSha256": reqSHA,
			"submitTime": now.Format(time.RFC3339Nano), "participantNumber": number},
	}, now)
	if err != nil {
		return submitted{}, err
	}
	note, err := receivedNotice(sel, in, appID, cand.Email, now)
	if err != nil {
		return submitted{}, err
	}
	g.add(job, ev, note, cand.Phone, now)
	return submitted{id: appID, app: &app, cand: &cand}, nil
}

// priorRow is a row that priorSubmission found: the application stored for the request
// ID, or one standing in the way of a new application.
type priorRow struct {
	Kind          string
	ID            string
	RequestSHA256 string `gorm:"column:request_sha256"`
}

// priorSubmission reads, in one statement, what the selection already holds for in: the
// application stored for its request ID (a retry), if any, and else why the candidate may
// not apply again (as duplicateCandidate says it), or "" when they may.
func priorSubmission(tx *gorm.DB, in SubmitInput) (*priorRow, string, error) {
	var rows []priorRow
	err := tx.Raw(`SELECT 'request' AS kind, id, request_sha256 FROM applications WHERE selection_id = ? AND request_id = ?
		UNION ALL SELECT 'owner' AS kind, id, '' FROM applications WHERE selection_id = ? AND owner = ?
		UNION ALL SELECT 'nip' AS kind, id, '' FROM candidates WHERE selection_id = ? AND nip = ?`,
		in.SelectionID, in.RequestID, in.SelectionID, in.Owner, in.SelectionID, in.Candidate.NIP).Scan(&rows).Error
	if err != nil {
		return nil, "", fmt.Errorf("read prior submissions: %w", err)
	}
	var owner, nip bool
	for i := range rows {
		switch rows[i].Kind {
		case "request":
			return &rows[i], "", nil
		case "owner":
			owner = true
		case "nip":
			nip = true
		}
	}
	switch {
	case owner:
		return nil, alreadyApplied, nil
	case nip:
		return nil, nipTaken, nil
	}
	return nil, "", nil
}

// Why a candidate may not apply again.
const (
	alreadyApplied = "the candidate has already applied to this selection"
	nipTaken       = "an application with this NIP already exists in this selection"
)

// duplicateCandidate says why the candidate may not apply again (an application to the
// selection by the same account or the same NIP), or "" when they may.
func duplicateCandidate(tx *gorm.DB, in SubmitInput) (string, error) {
	var n int64
	if err := tx.Model(&applicationRow{}).Where("selection_id = ? AND owner = ?", in.SelectionID, in.Owner).Count(&n).Error; err != nil {
		return "", err
	}
	if n > 0 {
		return alreadyApplied, nil
	}
	if err := tx.Model(&candidateRow{}).Where("selection_id = ? AND nip = ?", in.SelectionID, in.Candidate.NIP).Count(&n).Error; err != nil {
		return "", err
	}
	if n > 0 {
		return nipTaken, nil
	}
	return "", nil
}

// receivedNotice tells the candidate that the application arrived, in the transaction that
// stores it (the "application received" touchpoint); queue fans it out to the channels the
// candidate chose. The text is a code with the close of the window in the agency's zone,
// rendered when sent.
func receivedNotice(sel *selectionRow, in SubmitInput, appID, email string, now time.Time) (notificationRow, error) {
	t := Text{Code: "status.received", EN: "Your application has been received.", ID: "Lamaran Anda telah diterima."}
	if sel.WindowCloses != nil {
		t.Params = map[string]string{"closes": sel.WindowCloses.UTC().Format(time.RFC3339),
			"zone": strings.TrimPrefix(sel.TimeZone, "TIME_ZONE_")}
	}
	m, err := encodeText(&t)
	if err != nil {
		return notificationRow{}, err
	}
	return notificationRow{ID: sha256Hex([]byte("received\x00" + in.SelectionID + "\x00" + in.RequestID))[:32],
		SelectionID: in.SelectionID, Recipient: in.Owner, ApplicationID: appID, Email: email, Kind: ActionSubmitApplication,
		Code: t.Code, TextEN: t.EN, TextID: t.ID, Message: m, CreatedAt: now, Channel: ChannelEmail}, nil
}

func validateSubmission(in SubmitInput) error {
	switch {
	case in.SelectionID == "":
		return invalid("selection ID is required")
	case in.RequestID == "":
		return invalid("request ID is required")
	case in.Candidate.Subject == "" || in.Owner == "":
		return invalid("candidate subject and owner are required")
	case in.Candidate.FullName == "" || in.Candidate.NIP == "" || in.Candidate.Email == "":
		return invalid("candidate name, NIP and e-mail are required")
	case in.Now.IsZero():
		return invalid("submission time is required")
	}
	if _, err := time.Parse(time.DateOnly, in.Candidate.BirthDate); err != nil {
		return invalid("birth date %q is not a YYYY-MM-DD date", in.Candidate.BirthDate)
	}
	return nil
}

// conflictOr maps a unique violation to ErrConflict. The duplicate checks run under the
// selection's lock (see submitGroup), so the unique indexes are the safeguard behind them,
// and this is how a duplicate they catch is reported.
func conflictOr(err error, what string) error {
	if isUniqueViolation(err) {
		return fmt.Errorf("duplicate %s: %w", what, ErrConflict)
	}
	return fmt.Errorf("insert %s: %w", what, err)
}

// newID returns prefix followed by 20 random lower-case hex digits, which fits the API's
// resource ID pattern and cannot collide in practice.
func newID(prefix string) string {
	var b [10]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return prefix + hex.EncodeToString(b[:])
}

// GetApplication returns one application with its candidate's data, its stage results and
// the intake facts of its selection (Application.Intake).
//
// Candidates repeat this read after every announcement, so it is two statements, each
// scanned column by column rather than through gorm's reflection: the application joined
// with its candidate and its selection, then its results. Each of those was a statement of
// its own, and gorm's building and scanning of them cost more than SQLite's execution.
func (s *Store) GetApplication(ctx context.Context, selectionID, id string) (Application, error) {
	op := func() string { return fmt.Sprintf("store: get application %q of selection %q", id, selectionID) }
	app, err := s.getApplicationRow(ctx, selectionID, id)
	if err != nil {
		return Application{}, fmt.Errorf("%s: %w", op(), err)
	}
	if app.Results, err = s.applicationResults(ctx, selectionID, id); err != nil {
		return Application{}, fmt.Errorf("%s: results: %w", op(), err)
	}
	return app, nil
}

// answerApplication is the application a write answers with: GetApplication without the
// selection's intake facts, so that a write answers the same whether it read the row back
// or built it from what it stored.
func (s *Store) answerApplication(ctx context.Context, selectionID, id string) (Application, error) {
	a, err := s.GetApplication(ctx, selectionID, id)
	a.Intake = nil
	return a, err
}

// getApplicationSQL reads an application's row, its candidate's (none once erased: a LEFT
// JOIN) and its selection's intake facts; the columns are those of applicationRow,
// candidateRow and SelectionIntake, in the order getApplicationRow scans them.
const getApplicationSQL = `SELECT a.id, a.selection_id, a.candidate_id, a.owner, a.request_id, a.request_sha256,
 a.profile, a.documents, a.statement, a.facts, a.state, a.current_stage, a.rank, a.final_score,
 a.eliminated_stage, a.elimination_reason, a.status_en, a.status_id, a.status_message,
 a.elimination_message, a.checklist, a.participant_seq, a.participant_number, a.submitted_at, a.updated_at,
 c.id, c.subject, c.full_name, c.nip, c.email, c.phone, c.birth_date,
 s.stage, s.window_closes, s.time_zone
 FROM applications a
 JOIN selections s ON s.id = a.selection_id
 LEFT JOIN candidates c ON c.id = a.candidate_id
 WHERE a.selection_id = ? AND a.id = ?`

func (s *Store) getApplicationRow(ctx context.Context, selectionID, id string) (Application, error) {
	rows, err := s.reads.WithContext(ctx).Raw(getApplicationSQL, selectionID, id).Rows()
	if err != nil {
		return Application{}, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return Application{}, err
		}
		return Application{}, ErrNotFound
	}
	var (
		r            applicationRow
		candID       sql.NullString
		cand         [6]sql.NullString
		intake       SelectionIntake
		windowCloses sql.NullTime
	)
	if err := rows.Scan(&r.ID, &r.SelectionID, &r.CandidateID, &r.Owner, &r.RequestID, &r.RequestSHA256,
		&r.Profile, &r.Documents, &r.Statement, &r.Facts, &r.State, &r.CurrentStage, &r.Rank, &r.FinalScore,
		&r.EliminatedStage, &r.EliminationReason, &r.StatusEN, &r.StatusID, &r.StatusMessage,
		&r.EliminationMessage, &r.Checklist, &r.ParticipantSeq, &r.ParticipantNumber, &r.SubmittedAt, &r.UpdatedAt,
		&candID, &cand[0], &cand[1], &cand[2], &cand[3], &cand[4], &cand[5],
		&intake.Stage, &windowCloses, &intake.TimeZone); err != nil {
		return Application{}, err
	}
	if err := rows.Close(); err != nil {
		return Application{}, err
	}
	app, err := r.application()
	if err != nil {
		return Application{}, err
	}
	if candID.Valid {
		c := candidateRow{Subject: cand[0].String, FullName: cand[1].String, NIP: cand[2].String,
			Email: cand[3].String, Phone: cand[4].String, BirthDate: cand[5].String}
		app.Candidate = c.candidate()
	}
	if windowCloses.Valid {
		intake.WindowCloses = windowCloses.Time.UTC()
	}
	app.Intake = &intake
	return app, nil
}

// applicationResultsSQL reads an application's stage results in the order they were
// published; the columns are applicationResultRow's that ApplicationResult shows.
const applicationResultsSQL = `SELECT stage, revision, outcome, scores, final_score, rank, reason, reason_message,
 published_at, competency_category
 FROM application_results WHERE selection_id = ? AND application_id = ? ORDER BY published_at, stage`

func (s *Store) applicationResults(ctx context.Context, selectionID, id string) ([]ApplicationResult, error) {
	rows, err := s.reads.WithContext(ctx).Raw(applicationResultsSQL, selectionID, id).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ApplicationResult
	for rows.Next() {
		var r applicationResultRow
		if err := rows.Scan(&r.Stage, &r.Revision, &r.Outcome, &r.Scores, &r.FinalScore, &r.Rank, &r.Reason,
			&r.ReasonMessage, &r.PublishedAt, &r.CompetencyCategory); err != nil {
			return nil, err
		}
		ar := ApplicationResult{Stage: r.Stage, Revision: r.Revision, Outcome: r.Outcome, FinalScore: r.FinalScore,
			Rank: r.Rank, Reason: r.Reason, PublishTime: r.PublishedAt.UTC(), CompetencyCategory: r.CompetencyCategory}
		if ar.ReasonMessage, err = decodeText(r.ReasonMessage); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(r.Scores), &ar.Scores); err != nil {
			return nil, fmt.Errorf("decode scores: %w", err)
		}
		out = append(out, ar)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, rows.Close()
}

// ListApplications lists a selection's applications with their candidates' data (stage
// results are left out; GetApplication has them). The filter accepts `state = X` and
// `stage = X` joined by AND; order_by accepts submit_time (the default), final_score,
// candidate.full_name and name (the ID), each optionally "desc". opts.Owner keeps one
// candidate's own applications.
func (s *Store) ListApplications(ctx context.Context, selectionID string, opts ListOptions) (Page[Application], error) {
	op := fmt.Sprintf("store: list applications of selection %q", selectionID)
	q, err := s.newListQuery("applications:"+selectionID+"/"+opts.Owner, opts, applicationFields, applicationOrders, "submit_time")
	if err != nil {
		return Page[Application]{}, fmt.Errorf("%s: %w", op, err)
	}
	if q.after == nil {
		if err := s.requireSelection(ctx, selectionID); err != nil {
			return Page[Application]{}, fmt.Errorf("%s: %w", op, err)
		}
	}
	base := s.db.WithContext(ctx).Model(&applicationRow{}).Where("selection_id = ?", selectionID)
	if opts.Owner != "" {
		base = base.Where("owner = ?", opts.Owner)
	}
	// The page token of the candidate.full_name order needs the last row's name, which lives
	// in the candidates table.
	sortName := "''"
	if q.order.columns[0] == candidateName {
		sortName = candidateName
	}
	q.selects = "applications.*, " + sortName + " AS sort_name"
	listed, next, total, err := runList(s, q, base, func(r *applicationListRow) []any {
		switch q.order.columns[0] {
		case "id":
			return []any{r.Row.ID}
		case "final_score":
			return []any{r.Row.FinalScore, r.Row.ID}
		case "participant_seq":
			return []any{int64(r.Row.ParticipantSeq), r.Row.ID}
		case candidateName:
			return []any{r.SortName, r.Row.ID}
		}
		return []any{r.Row.SubmittedAt, r.Row.ID}
	})
	if err != nil {
		return Page[Application]{}, fmt.Errorf("%s: %w", op, err)
	}
	rows := make([]applicationRow, len(listed))
	for i := range listed {
		rows[i] = listed[i].Row
	}
	apps, err := s.withCandidates(ctx, s.db, rows)
	if err != nil {
		return Page[Application]{}, fmt.Errorf("%s: %w", op, err)
	}
	return Page[Application]{Items: apps, NextPageToken: next, TotalSize: total}, nil
}

// applicationListRow is an application row as listed: with its candidate's name when the
// list is ordered by it.
type applicationListRow struct {
	Row      applicationRow `gorm:"embedded"`
	SortName string
}

// withCandidates converts rows and attaches their candidates' data, read in one query.
func (s *Store) withCandidates(ctx context.Context, db *gorm.DB, rows []applicationRow) ([]Application, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]string, len(rows))
	for i := range rows {
		ids[i] = rows[i].CandidateID
	}
	var cands []candidateRow
	if err := db.WithContext(ctx).Where("id IN ?", ids).Find(&cands).Error; err != nil {
		return nil, fmt.Errorf("candidates: %w", err)
	}
	byID := make(map[string]*candidateRow, len(cands))
	for i := range cands {
		byID[cands[i].ID] = &cands[i]
	}
	out := make([]Application, len(rows))
	for i := range rows {
		a, err := rows[i].application()
		if err != nil {
			return nil, err
		}
		if c := byID[rows[i].CandidateID]; c != nil {
			a.Candidate = c.candidate()
		}
		out[i] = a
	}
	return out, nil
}

func (r *applicationRow) application() (Application, error) {
	a := Application{
		ID: r.ID, SelectionID: r.SelectionID, CandidateID: r.CandidateID, Owner: r.Owner, RequestID: r.RequestID,
		ParticipantNumber: r.ParticipantNumber, ParticipantSeq: r.ParticipantSeq,
		Profile: json.RawMessage(r.Profile), Statement: r.Statement, State: r.State, CurrentStage: r.CurrentStage,
		Rank: r.Rank, FinalScore: r.FinalScore, EliminatedStage: r.EliminatedStage, EliminationReason: r.EliminationReason,
		Status: Text{EN: r.StatusEN, ID: r.StatusID}, SubmitTime: r.SubmittedAt.UTC(), UpdateTime: r.UpdatedAt.UTC(),
	}
	if err := json.Unmarshal([]byte(r.Documents), &a.Documents); err != nil {
		return Application{}, fmt.Errorf("application %q: decode documents: %w", r.ID, err)
	}
	status, err := decodeText(r.StatusMessage)
	if err != nil {
		return Application{}, fmt.Errorf("application %q: status: %w", r.ID, err)
	}
	if status != nil {
		a.Status = *status
	}
	if a.EliminationMessage, err = decodeText(r.EliminationMessage); err != nil {
		return Application{}, fmt.Errorf("application %q: elimination: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(r.Facts), &a.Facts); err != nil {
		return Application{}, fmt.Errorf("application %q: decode facts: %w", r.ID, err)
	}
	if r.Checklist != "" {
		if err := json.Unmarshal([]byte(r.Checklist), &a.Checklist); err != nil {
			return Application{}, fmt.Errorf("application %q: decode checklist: %w", r.ID, err)
		}
	}
	return a, nil
}

func (c *candidateRow) candidate() Candidate {
	return Candidate{Subject: c.Subject, FullName: c.FullName, NIP: c.NIP, Email: c.Email, Phone: c.Phone, BirthDate: c.BirthDate}
}

// WithdrawInput withdraws an application while the announcement window is still open.
type WithdrawInput struct {
	SelectionID   string
	ApplicationID string
	// RequestID is the API request's ID; the audit event keeps it.
	RequestID string
	// Actor is the candidate who owns the application, or the secretariat (admin) recording a
	// written withdrawal.
	Actor  Actor
	Reason string
	// Status is what the candidate reads afterwards; the API renders it.
	Status *Text
	// Now is the wall-clock time of the request, compared with the projected window.
	Now time.Time
}

// WithdrawBeforeClose withdraws an application during the announcement, before the workflow
// has taken it into its snapshot: the snapshot leaves it out. After the close, withdrawals are
// workflow commands, and this returns ErrFailedPrecondition. Withdrawing an application that
// is already withdrawn returns it unchanged, so a retried request succeeds. A withdrawal is
// final: the candidate cannot apply again to the same selection.
func (s *Store) WithdrawBeforeClose(ctx context.Context, in WithdrawInput) (Application, error) {
	op := fmt.Sprintf("store: withdraw application %q of selection %q", in.ApplicationID, in.SelectionID)
	if in.SelectionID == "" || in.ApplicationID == "" || in.Actor.Subject == "" || in.Now.IsZero() {
		return Application{}, fmt.Errorf("%s: %w", op, invalid("selection, application, actor and time are required"))
	}
	if err := checkText(in); err != nil {
		return Application{}, fmt.Errorf("%s: %w", op, err)
	}
	now := instant(in.Now)
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		sel, err := s.lockSelection(tx, in.SelectionID)
		if err != nil {
			return err
		}
		var app applicationRow
		if err := tx.Select("id", "owner", "state").Take(&app, "selection_id = ? AND id = ?", in.SelectionID, in.ApplicationID).Error; err != nil {
			return fmt.Errorf("application %q: %w", in.ApplicationID, notFound(err))
		}
		if in.Actor.Role != "ROLE_ADMIN" && app.Owner != in.Actor.Subject {
			// Someone else's application is reported as absent, so that its existence does
			// not leak.
			return fmt.Errorf("application %q: %w", in.ApplicationID, ErrNotFound)
		}
		if app.State == StateWithdrawn {
			return nil
		}
		if why := sel.windowOpen(now); why != "" {
			return fmt.Errorf("%s; after the close the withdrawal goes through the selection's workflow: %w", why, ErrFailedPrecondition)
		}
		if app.State != StateSubmitted {
			return fmt.Errorf("the application is %s: %w", app.State, ErrFailedPrecondition)
		}
		set := map[string]any{
			"state": StateWithdrawn, "eliminated_stage": StageAnnouncement, "elimination_reason": in.Reason, "updated_at": now,
		}
		if in.Status != nil {
			m, err := encodeText(in.Status)
			if err != nil {
				return err
			}
			set["status_en"], set["status_id"], set["status_message"] = in.Status.EN, in.Status.ID, m
		}
		err = tx.Model(&applicationRow{}).Where("selection_id = ? AND id = ?", in.SelectionID, in.ApplicationID).UpdateColumns(set).Error
		if err != nil {
			return fmt.Errorf("update application: %w", err)
		}
		// The action is not the workflow's WithdrawApplication command: an auditor matches
		// those with the workflow history, and this one never enters it.
		_, err = s.appendAudit(tx, sel, auditInput{
			UpdateID: in.RequestID, Actor: in.Actor, Action: ActionWithdrawBeforeClose,
			Target: "selections/" + in.SelectionID + "/applications/" + in.ApplicationID, Reason: in.Reason, WorkflowTime: now,
			Payload: map[string]any{"applicationId": in.ApplicationID, "reason": in.Reason},
		}, now)
		return err
	})
	if err != nil {
		return Application{}, fmt.Errorf("%s: %w", op, err)
	}
	return s.answerApplication(ctx, in.SelectionID, in.ApplicationID)
}

// Actions of the audit events the store records on its own (not workflow commands).
const (
	ActionCreateSelection     = "CreateSelection"
	ActionSubmitApplication   = "SubmitApplication"
	ActionWithdrawBeforeClose = "WithdrawBeforeClose"
)

// CandidateNames maps each application of a selection to its candidate's full name, in one
// query: published stage results list names (the announcement of who passes), and a result
// may have thousands of lines.
func (s *Store) CandidateNames(ctx context.Context, selectionID string) (map[string]string, error) {
	var rows []struct {
		ID       string
		FullName string
	}
	err := s.db.WithContext(ctx).Table("applications AS a").
		Select("a.id AS id, c.full_name AS full_name").
		Joins("JOIN candidates AS c ON c.id = a.candidate_id").
		Where("a.selection_id = ?", selectionID).
		Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: candidate names of selection %q: %w", selectionID, err)
	}
	names := make(map[string]string, len(rows))
	for _, r := range rows {
		names[r.ID] = r.FullName
	}
	return names, nil
}
