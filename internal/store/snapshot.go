package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"time"

	"gorm.io/gorm"
)

// snapshotDigestVersion names the digest encoding below. v2 added the stored documents.
const snapshotDigestVersion = "seleksi-snapshot/v2"

// snapshotRowDigest is what the digest covers of one application: everything the candidate
// submitted (personal data included) and when, and the documents it names twice: as the
// application row describes them (Documents) and as the documents table stores them
// (StoredDocuments), so that a digest altered in either after the close is detected. The
// status projection is left out, because it changes legitimately as the selection goes on;
// the submission never does.
type snapshotRowDigest struct {
	ID          string          `json:"id"`
	Owner       string          `json:"owner"`
	RequestID   string          `json:"requestId"`
	SubmittedAt string          `json:"submittedAt"`
	Candidate   Candidate       `json:"candidate"`
	Profile     json.RawMessage `json:"profile"`
	Documents   json.RawMessage `json:"documents"`
	// StoredDocuments are the documents table's rows of the documents named, in the same
	// order.
	StoredDocuments []snapshotDocument `json:"storedDocuments"`
	Statement       string             `json:"statement"`
	Facts           json.RawMessage    `json:"facts"`
}

// snapshotBatch is how many applications a snapshot reads at a time.
const snapshotBatch = 1000

// Snapshot returns a selection's submitted applications (less those withdrawn during the
// announcement) in ID order, with their eligibility facts (ages computed at closedAt) and the
// SHA-256 digest of their rows. It only reads; the workflow's snapshot at the close goes
// through TakeSnapshot, which also freezes intake.
func (s *Store) Snapshot(ctx context.Context, selectionID string, closedAt time.Time) (Snapshot, error) {
	if err := s.requireSelection(ctx, selectionID); err != nil {
		return Snapshot{}, fmt.Errorf("store: snapshot of selection %q: %w", selectionID, err)
	}
	snap, err := computeSnapshot(s.db.WithContext(ctx), selectionID, closedAt, nil)
	if err != nil {
		return Snapshot{}, fmt.Errorf("store: snapshot of selection %q: %w", selectionID, err)
	}
	return snap, nil
}

// SnapshotCheck compares a recorded snapshot with the rows as they are now.
type SnapshotCheck struct {
	Key        string
	Recorded   string
	Recomputed string
	// Missing lists applications of the snapshot that no longer exist.
	Missing []string
	OK      bool
}

// VerifySnapshot recomputes the digest of the snapshot recorded under key from the current
// rows of the same applications. A changed submission (or a deleted one) changes the digest.
func (s *Store) VerifySnapshot(ctx context.Context, selectionID, key string) (SnapshotCheck, error) {
	op := fmt.Sprintf("store: verify snapshot %q of selection %q", key, selectionID)
	var row snapshotRow
	if err := s.db.WithContext(ctx).Take(&row, "selection_id = ? AND snapshot_key = ?", selectionID, key).Error; err != nil {
		return SnapshotCheck{}, fmt.Errorf("%s: %w", op, notFound(err))
	}
	var recorded Snapshot
	if err := json.Unmarshal([]byte(row.Body), &recorded); err != nil {
		return SnapshotCheck{}, fmt.Errorf("%s: decode: %w", op, err)
	}
	ids := make([]string, len(recorded.Applications))
	for i, a := range recorded.Applications {
		ids[i] = a.ID
	}
	now, err := computeSnapshot(s.db.WithContext(ctx), selectionID, recorded.ClosedAt, ids)
	if err != nil {
		return SnapshotCheck{}, fmt.Errorf("%s: %w", op, err)
	}
	chk := SnapshotCheck{Key: key, Recorded: row.Digest, Recomputed: now.Digest}
	present := make(map[string]bool, len(now.Applications))
	for _, a := range now.Applications {
		present[a.ID] = true
	}
	for _, id := range ids {
		if !present[id] {
			chk.Missing = append(chk.Missing, id)
		}
	}
	chk.OK = chk.Recorded == chk.Recomputed && len(chk.Missing) == 0
	return chk, nil
}

// computeSnapshot reads the applications of a selection (all, or only those in ids) in ID
// order and digests them: SHA-256 over a header line and one canonical JSON line per
// application.
func computeSnapshot(db *gorm.DB, selectionID string, closedAt time.Time, ids []string) (Snapshot, error) {
	closedAt = instant(closedAt)
	snap := Snapshot{SelectionID: selectionID, ClosedAt: closedAt, Applications: []SnapshotApplication{}}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n", snapshotDigestVersion, selectionID, closedAt.Format(time.RFC3339Nano))
	// Read in batches in ID order: by keyset over the whole selection, or over the given IDs.
	sorted := sortedCopy(ids)
	last := ""
	for batch := 0; ; batch++ {
		q := db.Where("selection_id = ?", selectionID)
		if ids != nil {
			lo := batch * snapshotBatch
			if lo >= len(sorted) {
				break
			}
			q = q.Where("id IN ?", sorted[lo:min(lo+snapshotBatch, len(sorted))])
		} else {
			// Applications withdrawn during the announcement never reach the workflow.
			q = q.Where("id > ? AND NOT (state = ? AND eliminated_stage = ?)", last, StateWithdrawn, StageAnnouncement).Limit(snapshotBatch)
		}
		var rows []applicationRow
		if err := q.Order("id").Find(&rows).Error; err != nil {
			return Snapshot{}, fmt.Errorf("read applications: %w", err)
		}
		if ids == nil && len(rows) == 0 {
			break
		}
		if err := digestRows(db, rows, closedAt, h, &snap); err != nil {
			return Snapshot{}, err
		}
		if len(rows) > 0 {
			last = rows[len(rows)-1].ID
		}
	}
	snap.Digest = hex.EncodeToString(h.Sum(nil))
	return snap, nil
}

// digestRows adds one batch of applications to a snapshot and its digest.
func digestRows(db *gorm.DB, rows []applicationRow, closedAt time.Time, h hash.Hash, snap *Snapshot) error {
	if len(rows) == 0 {
		return nil
	}
	cids := make([]string, len(rows))
	for i := range rows {
		cids[i] = rows[i].CandidateID
	}
	var cands []candidateRow
	if err := db.Where("id IN ?", cids).Find(&cands).Error; err != nil {
		return fmt.Errorf("read candidates: %w", err)
	}
	byID := make(map[string]candidateRow, len(cands))
	for _, c := range cands {
		byID[c.ID] = c
	}
	stored, err := storedDocuments(db, rows)
	if err != nil {
		return err
	}
	for i := range rows {
		r := &rows[i]
		cand := byID[r.CandidateID]
		line, err := CanonicalJSON(snapshotRowDigest{
			ID: r.ID, Owner: r.Owner, RequestID: r.RequestID, SubmittedAt: instant(r.SubmittedAt).Format(time.RFC3339Nano),
			Candidate: cand.candidate(), Profile: json.RawMessage(r.Profile), Documents: json.RawMessage(r.Documents),
			StoredDocuments: stored[r.ID], Statement: r.Statement, Facts: json.RawMessage(r.Facts),
		})
		if err != nil {
			return fmt.Errorf("application %q: %w", r.ID, err)
		}
		h.Write(line)
		h.Write([]byte{'\n'})
		var facts Facts
		if err := json.Unmarshal([]byte(r.Facts), &facts); err != nil {
			return fmt.Errorf("application %q: decode facts: %w", r.ID, err)
		}
		facts.AgeAtClose = ageAt(cand.BirthDate, closedAt)
		snap.Applications = append(snap.Applications, SnapshotApplication{ID: r.ID, Candidate: r.Owner,
			SubmittedAt: r.SubmittedAt.UTC(), Facts: facts})
	}
	return nil
}

// ageAt is the age in full years on the last day before the instant at. Windows close at the
// end of a working day in the agency's zone (UTC+7 to UTC+9), which is still that day in UTC,
// so the UTC date of the last instant before the close is the last day of the window.
func ageAt(birthDate string, at time.Time) int {
	b, err := time.Parse(time.DateOnly, birthDate)
	if err != nil || at.IsZero() {
		return 0
	}
	d := at.Add(-time.Nanosecond).UTC()
	age := d.Year() - b.Year()
	if d.Month() < b.Month() || (d.Month() == b.Month() && d.Day() < b.Day()) {
		age--
	}
	return age
}
