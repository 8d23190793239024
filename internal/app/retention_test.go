package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/documents"
	"github.com/bkpsdm/seleksi/internal/documents/blob"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/server"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// erasedAfterPut is the filesystem document storage, except that the first Put of the key
// is followed at once by its deletion: what an erasure of the last other document with the
// same content does when it decides between an upload's Put and the document's creation.
type erasedAfterPut struct {
	*blob.FS
	mu     sync.Mutex
	key    string
	erased bool
}

func (s *erasedAfterPut) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := s.FS.Put(ctx, key, r, size); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if key == s.key && !s.erased {
		s.erased = true
		return s.FS.Delete(ctx, key)
	}
	return nil
}

// retentionEnv is the API with the real upload handler and document service over a real
// store and filesystem storage (wrapped as given); no Temporal.
func retentionEnv(t *testing.T, wrap func(*blob.FS) blob.Store) (*docEnv, *blob.FS) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "seleksi.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for _, id := range []string{"sel-old", "sel-new"} {
		if _, err := st.CreateSelection(ctx, store.NewSelection{ID: id, RequestID: "create-" + id, WorkflowID: workflows.WorkflowID(id),
			PositionTitle: "Kepala Dinas", Agency: "Pemkab Contoh", TimeZone: "TIME_ZONE_WIB", Config: []byte(docSelectionConfig),
			Actor: store.Actor{Subject: "admin-1", Role: "ROLE_ADMIN"}, Now: now}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.ProjectWindow(ctx, store.WindowInput{WorkflowID: workflows.WorkflowID(id), SelectionID: id, Key: "window-1",
			Window: store.Window{Opens: now.Add(-time.Hour), Closes: now.Add(24 * time.Hour), ClosesWall: now.Add(24 * time.Hour)}}, now); err != nil {
			t.Fatal(err)
		}
	}
	key, err := auth.LoadOrCreateLocalKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	catalog, err := i18n.NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	fs, err := blob.NewFS(filepath.Join(dir, "documents"))
	if err != nil {
		t.Fatal(err)
	}
	blobs := wrap(fs)
	logger := slog.New(slog.DiscardHandler)
	verifier := key.Verifier(time.Now, 0)
	env := &docEnv{st: st, key: key, uploads: filepath.Join(dir, "uploads")}
	up, err := documents.NewUploads(st, blobs, documents.ScanInspector{}, verifier, catalog, logger,
		documents.UploadOptions{Dir: env.uploads, BasePath: UploadsPath})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTransport(ctx, logger, "127.0.0.1:0", "127.0.0.1:0", verifier, server.Services{
		Selection:    seleksiv1.UnimplementedSelectionServiceServer{},
		Application:  seleksiv1.UnimplementedApplicationServiceServer{},
		Audit:        seleksiv1.UnimplementedAuditServiceServer{},
		Notification: seleksiv1.UnimplementedNotificationServiceServer{},
		Document:     server.NewDocumentServer(st, blobs, logger, time.Now),
	}, WithUploads(func(l documents.Limiter) http.Handler { return up.LimitedBy(l) }))
	if err != nil {
		t.Fatal(err)
	}
	tr.Start()
	t.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	env.base = "http://" + tr.HTTPAddr()
	env.grpc = tr.GRPCAddr()
	return env, fs
}

// TestUploadOutlivesAnErasureOfTheSameContent: when the erasure of another document with
// the same content deletes the stored file while an upload of that content finishes (after
// the upload stored it, before its document was recorded), the upload stores it again: the
// new document downloads whole.
func TestUploadOutlivesAnErasureOfTheSameContent(t *testing.T) {
	data := pdf(50_000, 7)
	digest := sha(data)
	var wrapped *erasedAfterPut
	env, fs := retentionEnv(t, func(fs *blob.FS) blob.Store {
		wrapped = &erasedAfterPut{FS: fs, key: documents.BlobKey(digest)}
		return wrapped
	})
	cand := env.mint(t, "cand-a", auth.RoleCandidate)
	name, err := env.upload(t, cand, "sel-new", "ijazah", data)
	if err != nil {
		t.Fatal(err)
	}
	if !wrapped.erased {
		t.Fatal("the storage did not delete the content after its first Put")
	}
	if _, err := fs.Stat(context.Background(), documents.BlobKey(digest)); err != nil {
		t.Fatalf("the new document's content is not stored: %v", err)
	}
	code, _, body := env.call(t, http.MethodGet, "/v1/"+name+":download", cand)
	if code != http.StatusOK || sha(body) != digest {
		t.Fatalf("download = %d, %d bytes with SHA-256 %s; want %s", code, len(body), sha(body), digest)
	}
}

// TestDownloadOfAnErasedDocument: once the retention erased a document, its owner and the
// secretariat still see its description (with the digest), and a download is refused as
// erased (410 Gone, reason DOCUMENT_ERASED), in the reader's language.
func TestDownloadOfAnErasedDocument(t *testing.T) {
	ctx := context.Background()
	env, fs := retentionEnv(t, func(fs *blob.FS) blob.Store { return fs })
	data := pdf(10_000, 3)
	cand := env.mint(t, "cand-a", auth.RoleCandidate)
	name, err := env.upload(t, cand, "sel-old", "ijazah", data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.st.ApplyCommand(ctx, store.Command{WorkflowID: workflows.WorkflowID("sel-old"), SelectionID: "sel-old", Key: "event-1",
		Seq: 1, Kind: "Cancelled", Actor: store.Actor{Subject: "seleksi", Role: "ROLE_SYSTEM"}, At: time.Now().Add(-2 * time.Hour),
		Stage: store.StageCancelled}); err != nil {
		t.Fatal(err)
	}
	id := strings.TrimPrefix(name, "documents/")
	e, err := env.st.EraseDocument(ctx, store.EraseInput{DocumentID: id, Cutoff: time.Now().Add(-time.Hour), Now: time.Now()},
		func(ctx context.Context, key string) error { return fs.Delete(ctx, key) })
	if err != nil || !e.Erased || !e.BlobDeleted {
		t.Fatalf("erase: %+v, %v", e, err)
	}
	if _, err := fs.Stat(ctx, e.Document.BlobKey); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("content still stored: %v", err)
	}
	code, _, body := env.call(t, http.MethodGet, "/v1/"+name, cand)
	if code != http.StatusOK || !strings.Contains(string(body), "DOCUMENT_STATE_ERASED") || !strings.Contains(string(body), sha(data)) {
		t.Fatalf("description of the erased document: %d %s", code, body)
	}
	for _, tok := range []string{cand, env.mint(t, "admin-1", auth.RoleAdmin)} {
		req, _ := http.NewRequest(http.MethodGet, env.base+"/v1/"+name+":download", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept-Language", "en")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusGone || !strings.Contains(string(body), "erased after its retention") ||
			!strings.Contains(string(body), `"reason":"DOCUMENT_ERASED"`) {
			t.Fatalf("download of an erased document: %d %s", resp.StatusCode, body)
		}
	}
}
