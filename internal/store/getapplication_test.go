package store

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// getApplicationByGorm is GetApplication as it was before its statements were joined and
// scanned by hand (issue 15): the application, then its candidate, then its results, each
// through gorm. checkGetApplication holds the new read to it.
func getApplicationByGorm(ctx context.Context, s *Store, selectionID, id string) (Application, error) {
	var row applicationRow
	if err := s.db.WithContext(ctx).Take(&row, "selection_id = ? AND id = ?", selectionID, id).Error; err != nil {
		return Application{}, notFound(err)
	}
	apps, err := s.withCandidates(ctx, s.db, []applicationRow{row})
	if err != nil {
		return Application{}, err
	}
	app := apps[0]
	var results []applicationResultRow
	if err := s.db.WithContext(ctx).Where("selection_id = ? AND application_id = ?", selectionID, id).
		Order("published_at, stage").Find(&results).Error; err != nil {
		return Application{}, err
	}
	for _, r := range results {
		ar := ApplicationResult{Stage: r.Stage, Revision: r.Revision, Outcome: r.Outcome, FinalScore: r.FinalScore,
			Rank: r.Rank, Reason: r.Reason, PublishTime: r.PublishedAt.UTC(), CompetencyCategory: r.CompetencyCategory}
		if ar.ReasonMessage, err = decodeText(r.ReasonMessage); err != nil {
			return Application{}, err
		}
		if err := json.Unmarshal([]byte(r.Scores), &ar.Scores); err != nil {
			return Application{}, err
		}
		app.Results = append(app.Results, ar)
	}
	return app, nil
}

// checkGetApplication: GetApplication returns what the three gorm reads returned, and the
// selection's intake facts as GetSelectionIntake reads them.
func checkGetApplication(t *testing.T, s *Store, selectionID, id string) {
	t.Helper()
	ctx := context.Background()
	got, err := s.GetApplication(ctx, selectionID, id)
	if err != nil {
		t.Fatalf("GetApplication(%s, %s): %v", selectionID, id, err)
	}
	want, err := getApplicationByGorm(ctx, s, selectionID, id)
	if err != nil {
		t.Fatalf("reference read of %s: %v", id, err)
	}
	intake, err := s.GetSelectionIntake(ctx, selectionID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Intake == nil || !reflect.DeepEqual(*got.Intake, intake) {
		t.Errorf("application %s: intake %+v, want %+v", id, got.Intake, intake)
	}
	got.Intake = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("application %s reads\n%+v\nwant (gorm)\n%+v", id, got, want)
	}
}

// testGetApplicationMissing: a missing application, or one asked of another selection, is
// ErrNotFound, as it was.
func testGetApplicationMissing(t *testing.T, open factory) {
	ctx := context.Background()
	s := open(t, true)
	openWindow(t, s, "sel-e")
	app := submit(t, s, newSubmission("sel-e", 0, t0))
	checkGetApplication(t, s, "sel-e", app.ID)
	if _, err := s.GetApplication(ctx, "sel-e", "app-missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing application: %v, want ErrNotFound", err)
	}
	if _, err := s.GetApplication(ctx, "sel-missing", app.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("application of another selection: %v, want ErrNotFound", err)
	}
}
