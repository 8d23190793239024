package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Official documents (migration 00021): the registry of issued, signed PDFs and the durable
// queue of jobs that issues them. The store knows which records call for which document (see
// DeriveOfficialJobs); what a document says is internal/official's.

// Kinds of official document, the API's enum names (OfficialDocumentKind).
const (
	OfficialVacancyAnnouncement = "OFFICIAL_DOCUMENT_KIND_VACANCY_ANNOUNCEMENT"
	OfficialResultAnnouncement  = "OFFICIAL_DOCUMENT_KIND_RESULT_ANNOUNCEMENT"
	OfficialMinutes             = "OFFICIAL_DOCUMENT_KIND_MINUTES"
	OfficialRecommendation      = "OFFICIAL_DOCUMENT_KIND_RECOMMENDATION"
	OfficialAppointmentRecord   = "OFFICIAL_DOCUMENT_KIND_APPOINTMENT_RECORD"
	// Kinds other parts of issue 13 issue through the same registry.
	OfficialRegistrationProof     = "OFFICIAL_DOCUMENT_KIND_REGISTRATION_PROOF"
	OfficialScoreRecap            = "OFFICIAL_DOCUMENT_KIND_SCORE_RECAP"
	OfficialMeritComplianceReport = "OFFICIAL_DOCUMENT_KIND_MERIT_COMPLIANCE_REPORT"
)

// States of an official job.
const (
	OfficialJobPending = "PENDING"
	OfficialJobDone    = "DONE"
	// OfficialJobSkipped is a job whose records turned out to call for no document (a
	// shortlist with nobody on it has no recommendation).
	OfficialJobSkipped = "SKIPPED"
)

// OfficialJob is one document to issue, and how issuing it went.
type OfficialJob struct {
	SelectionID string
	Kind        string
	// Subject is what in the selection the document is about: a stage, an application; ""
	// for the selection itself.
	Subject  string
	Revision int
	State    string
	// Seq and IssueTime are fixed when the job is first claimed (zero before): a retry
	// renders the same number and date.
	Seq         int
	IssueTime   time.Time
	Attempts    int
	NextAttempt time.Time
	LastError   string
	DocumentID  string
	CreateTime  time.Time
	UpdateTime  time.Time
}

// OfficialDocument is one issued document. Content (the PDF) is filled only by
// GetOfficialDocument with content requested.
type OfficialDocument struct {
	ID           string
	Number       string
	SelectionID  string
	Seq          int
	Kind         string
	Subject      string
	Revision     int
	Stage        string
	Supersedes   string
	SupersededBy string
	Issuer       string
	IssueTime    time.Time
	SHA256       string
	// Signature is the detached signature, base64 (standard encoding).
	Signature string
	KeyID     string
	Algorithm string
	MediaType string
	SizeBytes int64
	Content   []byte
	// Facts are what the document was rendered from (JSON).
	Facts      string
	CreateTime time.Time
}

type officialJobRow struct {
	SelectionID   string `gorm:"primaryKey"`
	Kind          string `gorm:"primaryKey"`
	Subject       string `gorm:"primaryKey"`
	Revision      int    `gorm:"primaryKey;autoIncrement:false"`
	State         string
	Seq           int
	IssueTime     *time.Time
	Attempts      int
	NextAttemptAt time.Time
	LeaseUntil    *time.Time
	LastError     string
	DocumentID    string
	CreatedAt     time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt     time.Time `gorm:"autoUpdateTime:false"`
}

func (officialJobRow) TableName() string { return "official_jobs" }

func (r *officialJobRow) job() OfficialJob {
	j := OfficialJob{SelectionID: r.SelectionID, Kind: r.Kind, Subject: r.Subject, Revision: r.Revision, State: r.State,
		Seq: r.Seq, Attempts: r.Attempts, NextAttempt: r.NextAttemptAt.UTC(), LastError: r.LastError, DocumentID: r.DocumentID,
		CreateTime: r.CreatedAt.UTC(), UpdateTime: r.UpdatedAt.UTC()}
	if r.IssueTime != nil {
		j.IssueTime = r.IssueTime.UTC()
	}
	return j
}

type officialDocumentRow struct {
	ID           string `gorm:"primaryKey"`
	Number       string
	SelectionID  string
	Seq          int
	Kind         string
	Subject      string
	Revision     int
	Stage        string
	Supersedes   string
	SupersededBy string
	Issuer       string
	IssueTime    time.Time
	SHA256       string `gorm:"column:sha256"`
	Signature    string
	KeyID        string
	Algorithm    string
	MediaType    string
	SizeBytes    int64
	Content      []byte
	Facts        string
	CreateTime   time.Time `gorm:"autoCreateTime:false"`
}

func (officialDocumentRow) TableName() string { return "official_documents" }

func (r *officialDocumentRow) document() OfficialDocument {
	return OfficialDocument{ID: r.ID, Number: r.Number, SelectionID: r.SelectionID, Seq: r.Seq, Kind: r.Kind, Subject: r.Subject,
		Revision: r.Revision, Stage: r.Stage, Supersedes: r.Supersedes, SupersededBy: r.SupersededBy, Issuer: r.Issuer,
		IssueTime: r.IssueTime.UTC(), SHA256: r.SHA256, Signature: r.Signature, KeyID: r.KeyID, Algorithm: r.Algorithm,
		MediaType: r.MediaType, SizeBytes: r.SizeBytes, Content: r.Content, Facts: r.Facts, CreateTime: r.CreateTime.UTC()}
}

// EnqueueOfficialJob queues a document to issue. Queuing one that is already queued (or
// issued) changes nothing, so callers may queue from retried code.
func (s *Store) EnqueueOfficialJob(ctx context.Context, selectionID, kind, subject string, revision int, now time.Time) error {
	if selectionID == "" || kind == "" || revision < 1 {
		return fmt.Errorf("store: enqueue official job: %w", invalid("selection, kind and a revision from 1 are required"))
	}
	return retry(ctx, func() error {
		return s.enqueueOfficialJob(s.db.WithContext(ctx), selectionID, kind, subject, revision, now)
	})
}

// enqueueOfficialJob queues a job inside tx, for writes that queue one with the record that
// calls for it.
func (s *Store) enqueueOfficialJob(tx *gorm.DB, selectionID, kind, subject string, revision int, now time.Time) error {
	row := newOfficialJob(selectionID, kind, subject, revision, now)
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
		return fmt.Errorf("store: enqueue official job %s/%s/%s/%d: %w", selectionID, kind, subject, revision, err)
	}
	return nil
}

// newOfficialJob is a pending job, due at now.
func newOfficialJob(selectionID, kind, subject string, revision int, now time.Time) officialJobRow {
	now = instant(now)
	return officialJobRow{SelectionID: selectionID, Kind: kind, Subject: subject, Revision: revision, State: OfficialJobPending,
		NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
}

// DeriveOfficialJobs queues a job for every record that calls for a document and has none
// queued: a projected announcement window (one revision per extension), each published stage
// result revision (its announcement and the committee's minutes), a settled shortlist with
// names on it (the recommendation), an appointment, and a closed or cancelled selection (the
// merit-compliance report). It reports how many it queued. Each
// statement inserts only what is missing, so concurrent callers queue each job once.
func (s *Store) DeriveOfficialJobs(ctx context.Context, now time.Time) (int64, error) {
	now = instant(now)
	const insert = `INSERT INTO official_jobs (selection_id, kind, subject, revision, state, seq, attempts, next_attempt_at, last_error, document_id, created_at, updated_at) `
	const missing = ` AND NOT EXISTS (SELECT 1 FROM official_jobs j WHERE j.selection_id = src.selection_id AND j.kind = src.kind AND j.subject = src.subject AND j.revision = src.revision) ON CONFLICT DO NOTHING`
	// A job is due from the time of its record (capped at now), so that a backlog is issued,
	// and numbered, in the order of the selection's course.
	const cols = `SELECT src.selection_id, src.kind, src.subject, src.revision, ?, 0, 0, CASE WHEN src.at < ? THEN src.at ELSE ? END, '', '', ?, ? FROM `
	sources := []struct {
		name string
		from string
		args []any
	}{
		{"announcement", `(SELECT id AS selection_id, ? AS kind, '' AS subject, window_extension + 1 AS revision, window_opens AS at FROM selections WHERE window_opens IS NOT NULL) src WHERE 1 = 1`,
			[]any{OfficialVacancyAnnouncement}},
		{"result announcements", `(SELECT selection_id, ? AS kind, stage AS subject, revision, published_at AS at FROM stage_results) src WHERE 1 = 1`,
			[]any{OfficialResultAnnouncement}},
		{"minutes", `(SELECT selection_id, ? AS kind, stage AS subject, revision, published_at AS at FROM stage_results) src WHERE 1 = 1`,
			[]any{OfficialMinutes}},
		{"recommendation", `(SELECT s.id AS selection_id, ? AS kind, '' AS subject, 1 AS revision, s.updated_at AS at FROM selections s
			WHERE EXISTS (SELECT 1 FROM audit_events a WHERE a.selection_id = s.id AND a.action = 'ShortlistSettled')
			AND EXISTS (SELECT 1 FROM applications p WHERE p.selection_id = s.id AND p.rank > 0)) src WHERE 1 = 1`,
			[]any{OfficialRecommendation}},
		{"appointment", `(SELECT id AS selection_id, ? AS kind, '' AS subject, 1 AS revision, updated_at AS at FROM selections WHERE appointed_application <> '') src WHERE 1 = 1`,
			[]any{OfficialAppointmentRecord}},
		// A selection's course ends by appointment or cancellation; its merit-compliance
		// report is then final.
		{"merit-compliance report", `(SELECT id AS selection_id, ? AS kind, '' AS subject, 1 AS revision, updated_at AS at FROM selections WHERE stage IN (?, ?)) src WHERE 1 = 1`,
			[]any{OfficialMeritComplianceReport, "STAGE_CLOSED", "STAGE_CANCELLED"}},
	}
	var total int64
	for _, src := range sources {
		// The column values come first in the statement, the source's parameters after.
		args := append([]any{OfficialJobPending, now, now, now, now}, src.args...)
		var n int64
		err := retry(ctx, func() error {
			res := s.db.WithContext(ctx).Exec(insert+cols+src.from+missing, args...)
			n = res.RowsAffected
			return res.Error
		})
		if err != nil {
			return total, fmt.Errorf("store: derive official jobs (%s): %w", src.name, err)
		}
		total += n
	}
	return total, nil
}

// ClaimOfficialJob leases the next due job until now+lease, fixing its seq and issue time on
// the first claim. ErrNotFound when none is due. A lease that runs out (a worker that died)
// makes the job due again.
func (s *Store) ClaimOfficialJob(ctx context.Context, now time.Time, lease time.Duration) (OfficialJob, error) {
	now = instant(now)
	var claimed officialJobRow
	err := retry(ctx, func() error {
		db := s.db.WithContext(ctx)
		var due []officialJobRow
		err := db.Where("state = ? AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)", OfficialJobPending, now, now).
			Order("next_attempt_at, selection_id, kind, subject, revision").Limit(8).Find(&due).Error
		if err != nil {
			return err
		}
		for _, j := range due {
			until := now.Add(lease)
			res := db.Model(&officialJobRow{}).
				Where("selection_id = ? AND kind = ? AND subject = ? AND revision = ? AND state = ? AND (lease_until IS NULL OR lease_until < ?)",
					j.SelectionID, j.Kind, j.Subject, j.Revision, OfficialJobPending, now).
				UpdateColumns(map[string]any{"lease_until": until, "attempts": gorm.Expr("attempts + 1"), "updated_at": now})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 1 {
				claimed = j
				claimed.LeaseUntil, claimed.Attempts, claimed.UpdatedAt = &until, j.Attempts+1, now
				return s.fixOfficialNumber(ctx, &claimed, now)
			}
		}
		claimed = officialJobRow{}
		return nil
	})
	if err != nil {
		return OfficialJob{}, fmt.Errorf("store: claim official job: %w", err)
	}
	if claimed.SelectionID == "" {
		return OfficialJob{}, fmt.Errorf("store: claim official job: %w", ErrNotFound)
	}
	return claimed.job(), nil
}

// fixOfficialNumber gives a claimed job the selection's next sequence number and its issue
// time, once.
func (s *Store) fixOfficialNumber(ctx context.Context, j *officialJobRow, now time.Time) error {
	if j.Seq > 0 {
		return nil
	}
	db := s.db.WithContext(ctx)
	var next int
	if err := db.Model(&officialJobRow{}).Select("COALESCE(MAX(seq), 0) + 1").Where("selection_id = ?", j.SelectionID).Scan(&next).Error; err != nil {
		return err
	}
	res := db.Model(&officialJobRow{}).
		Where("selection_id = ? AND kind = ? AND subject = ? AND revision = ? AND seq = 0", j.SelectionID, j.Kind, j.Subject, j.Revision).
		UpdateColumns(map[string]any{"seq": next, "issue_time": now})
	if res.Error != nil {
		if isUniqueViolation(res.Error) {
			return fmt.Errorf("official number %d of %s taken: %w", next, j.SelectionID, errRetry)
		}
		return res.Error
	}
	if res.RowsAffected == 1 {
		j.Seq, j.IssueTime = next, &now
		return nil
	}
	// Fixed meanwhile by an earlier lease holder whose lease ran out: read it.
	var row officialJobRow
	if err := db.Take(&row, "selection_id = ? AND kind = ? AND subject = ? AND revision = ?", j.SelectionID, j.Kind, j.Subject, j.Revision).Error; err != nil {
		return err
	}
	j.Seq, j.IssueTime = row.Seq, row.IssueTime
	return nil
}

// CompleteOfficialJob stores the job's document and marks the job done, in one transaction;
// the document supersedes the latest earlier revision of the same (selection, kind,
// subject). A document already stored for the job's key is kept and the job marked done with
// it: a retry never makes a second document.
func (s *Store) CompleteOfficialJob(ctx context.Context, j OfficialJob, d OfficialDocument, now time.Time) (OfficialDocument, error) {
	op := fmt.Sprintf("store: complete official job %s/%s/%s/%d", j.SelectionID, j.Kind, j.Subject, j.Revision)
	if d.ID == "" || d.Number == "" || d.SHA256 == "" || d.Signature == "" || len(d.Content) == 0 {
		return OfficialDocument{}, fmt.Errorf("%s: %w", op, invalid("ID, number, digest, signature and content are required"))
	}
	now = instant(now)
	var out officialDocumentRow
	err := s.inTx(ctx, func(tx *gorm.DB) error {
		var existing officialDocumentRow
		err := tx.Omit("content").Take(&existing, "selection_id = ? AND kind = ? AND subject = ? AND revision = ?", j.SelectionID, j.Kind, j.Subject, j.Revision).Error
		switch {
		case err == nil:
			out = existing
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return err
		default:
			row := officialDocumentRow{ID: d.ID, Number: d.Number, SelectionID: j.SelectionID, Seq: j.Seq, Kind: j.Kind, Subject: j.Subject,
				Revision: j.Revision, Stage: d.Stage, Issuer: d.Issuer, IssueTime: instant(d.IssueTime), SHA256: d.SHA256, Signature: d.Signature,
				KeyID: d.KeyID, Algorithm: d.Algorithm, MediaType: d.MediaType, SizeBytes: int64(len(d.Content)), Content: d.Content,
				Facts: d.Facts, CreateTime: now}
			var prev officialDocumentRow
			err := tx.Select("id").Where("selection_id = ? AND kind = ? AND subject = ? AND revision < ?", j.SelectionID, j.Kind, j.Subject, j.Revision).
				Order("revision DESC").Limit(1).Take(&prev).Error
			switch {
			case err == nil:
				row.Supersedes = prev.ID
			case !errors.Is(err, gorm.ErrRecordNotFound):
				return err
			}
			if err := tx.Create(&row).Error; err != nil {
				if isUniqueViolation(err) {
					return fmt.Errorf("document stored concurrently: %w", errRetry)
				}
				return err
			}
			if row.Supersedes != "" {
				if err := tx.Model(&officialDocumentRow{}).Where("id = ?", row.Supersedes).UpdateColumn("superseded_by", row.ID).Error; err != nil {
					return err
				}
			}
			// A later revision issued before this one (jobs run in any order) is superseded by
			// nothing older: point this one at it.
			var later officialDocumentRow
			err = tx.Select("id").Where("selection_id = ? AND kind = ? AND subject = ? AND revision > ?", j.SelectionID, j.Kind, j.Subject, j.Revision).
				Order("revision").Limit(1).Take(&later).Error
			switch {
			case err == nil:
				if err := tx.Model(&officialDocumentRow{}).Where("id = ?", row.ID).UpdateColumn("superseded_by", later.ID).Error; err != nil {
					return err
				}
				if err := tx.Model(&officialDocumentRow{}).Where("id = ?", later.ID).UpdateColumn("supersedes", row.ID).Error; err != nil {
					return err
				}
				row.SupersededBy = later.ID
			case !errors.Is(err, gorm.ErrRecordNotFound):
				return err
			}
			out = row
			out.Content = nil
		}
		return tx.Model(&officialJobRow{}).
			Where("selection_id = ? AND kind = ? AND subject = ? AND revision = ?", j.SelectionID, j.Kind, j.Subject, j.Revision).
			UpdateColumns(map[string]any{"state": OfficialJobDone, "document_id": out.ID, "lease_until": nil, "last_error": "", "updated_at": now}).Error
	})
	if err != nil {
		return OfficialDocument{}, fmt.Errorf("%s: %w", op, err)
	}
	return out.document(), nil
}

// SkipOfficialJob marks a job whose records call for no document.
func (s *Store) SkipOfficialJob(ctx context.Context, j OfficialJob, reason string, now time.Time) error {
	return s.finishOfficialJob(ctx, j, map[string]any{"state": OfficialJobSkipped, "lease_until": nil, "last_error": reason, "updated_at": instant(now)})
}

// FailOfficialJob records a failed attempt and when to try again.
func (s *Store) FailOfficialJob(ctx context.Context, j OfficialJob, cause string, next time.Time, now time.Time) error {
	return s.finishOfficialJob(ctx, j, map[string]any{"lease_until": nil, "last_error": cause, "next_attempt_at": instant(next), "updated_at": instant(now)})
}

func (s *Store) finishOfficialJob(ctx context.Context, j OfficialJob, set map[string]any) error {
	err := retry(ctx, func() error {
		return s.db.WithContext(ctx).Model(&officialJobRow{}).
			Where("selection_id = ? AND kind = ? AND subject = ? AND revision = ? AND state = ?", j.SelectionID, j.Kind, j.Subject, j.Revision, OfficialJobPending).
			UpdateColumns(set).Error
	})
	if err != nil {
		return fmt.Errorf("store: official job %s/%s/%s/%d: %w", j.SelectionID, j.Kind, j.Subject, j.Revision, err)
	}
	return nil
}

// ListOfficialJobs lists a selection's jobs (all selections' when selectionID is empty) that
// are not done, oldest first: what operators look at when documents are late.
func (s *Store) ListOfficialJobs(ctx context.Context, selectionID string, limit int) ([]OfficialJob, error) {
	q := s.db.WithContext(ctx).Where("state = ?", OfficialJobPending)
	if selectionID != "" {
		q = q.Where("selection_id = ?", selectionID)
	}
	var rows []officialJobRow
	if err := q.Order("created_at, selection_id, kind, subject, revision").Limit(max(limit, 1)).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: list official jobs: %w", err)
	}
	out := make([]OfficialJob, len(rows))
	for i := range rows {
		out[i] = rows[i].job()
	}
	return out, nil
}

// GetOfficialDocument returns a document by ID, with its PDF when withContent.
func (s *Store) GetOfficialDocument(ctx context.Context, id string, withContent bool) (OfficialDocument, error) {
	q := s.db.WithContext(ctx)
	if !withContent {
		q = q.Omit("content")
	}
	var row officialDocumentRow
	if err := q.Take(&row, "id = ?", id).Error; err != nil {
		return OfficialDocument{}, fmt.Errorf("store: official document %q: %w", id, notFound(err))
	}
	return row.document(), nil
}

// ListOfficialDocuments lists a selection's documents in issue order, without their PDFs.
func (s *Store) ListOfficialDocuments(ctx context.Context, selectionID string) ([]OfficialDocument, error) {
	if err := s.requireSelection(ctx, selectionID); err != nil {
		return nil, fmt.Errorf("store: official documents of %q: %w", selectionID, err)
	}
	var rows []officialDocumentRow
	if err := s.db.WithContext(ctx).Omit("content").Where("selection_id = ?", selectionID).Order("seq").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: official documents of %q: %w", selectionID, err)
	}
	out := make([]OfficialDocument, len(rows))
	for i := range rows {
		out[i] = rows[i].document()
	}
	return out, nil
}

// ListStageResultRevisions lists every published revision of every stage result of a
// selection, in publication order, without their entries: what a document needs to place one
// revision among the others.
func (s *Store) ListStageResultRevisions(ctx context.Context, selectionID string) ([]StageResult, error) {
	var rows []stageResultRow
	if err := s.db.WithContext(ctx).Omit("entries").Where("selection_id = ?", selectionID).Order("published_at, stage, revision").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: stage result revisions of %q: %w", selectionID, err)
	}
	out := make([]StageResult, len(rows))
	for i, r := range rows {
		out[i] = StageResult{SelectionID: r.SelectionID, Stage: r.Stage, Revision: r.Revision, PublishedAt: r.PublishedAt.UTC(),
			ObjectionDeadline: fromNull(r.ObjectionDeadline), RevisionReason: r.RevisionReason, ScoresPublished: r.ScoresPublished}
	}
	return out, nil
}

// OfficialKey is a public key official documents are signed with.
type OfficialKey struct {
	ID        string
	Algorithm string
	// PublicKey is the raw public key, base64 (standard encoding); PEM its SubjectPublicKeyInfo.
	PublicKey  string
	PEM        string
	CreateTime time.Time
}

type officialKeyRow struct {
	KeyID      string `gorm:"primaryKey"`
	Algorithm  string
	PublicKey  string
	PEM        string    `gorm:"column:pem"`
	CreateTime time.Time `gorm:"autoCreateTime:false"`
}

func (officialKeyRow) TableName() string { return "official_keys" }

// RegisterOfficialKey records a signing key's public half; registering it again changes
// nothing.
func (s *Store) RegisterOfficialKey(ctx context.Context, k OfficialKey) error {
	if k.ID == "" || k.Algorithm == "" || k.PublicKey == "" {
		return fmt.Errorf("store: register official key: %w", invalid("key ID, algorithm and public key are required"))
	}
	row := officialKeyRow{KeyID: k.ID, Algorithm: k.Algorithm, PublicKey: k.PublicKey, PEM: k.PEM, CreateTime: instant(k.CreateTime)}
	err := retry(ctx, func() error {
		return s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error
	})
	if err != nil {
		return fmt.Errorf("store: register official key %s: %w", k.ID, err)
	}
	return nil
}

// ListOfficialKeys lists the registered keys, the newest first.
func (s *Store) ListOfficialKeys(ctx context.Context) ([]OfficialKey, error) {
	var rows []officialKeyRow
	if err := s.db.WithContext(ctx).Order("create_time DESC, key_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: list official keys: %w", err)
	}
	out := make([]OfficialKey, len(rows))
	for i, r := range rows {
		out[i] = OfficialKey{ID: r.KeyID, Algorithm: r.Algorithm, PublicKey: r.PublicKey, PEM: r.PEM, CreateTime: r.CreateTime.UTC()}
	}
	return out, nil
}
