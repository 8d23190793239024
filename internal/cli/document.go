package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/documents/tusclient"
)

// uploadsPath is where seleksid serves the resumable uploads (tus), under --http.
const uploadsPath = "/v1/uploads/"

// documentName accepts a document ID or its resource name.
func documentName(arg string) (string, error) {
	id := strings.TrimPrefix(arg, "documents/")
	if !validID(id) {
		return "", usageErrorf("%q is not a document ID (such as doc-abcdefghijklmnop)", arg)
	}
	return "documents/" + id, nil
}

func documentUpload() *command {
	var sel, kind, stateDir string
	var chunk int64
	var retries int
	return &command{
		path: "document upload", args: "FILE --selection S --kind K", nargs: 1,
		summary: "upload a document for a selection, resumably (candidate)",
		help: `The file is sent with the tus resumable upload protocol to --http (SELEKSI_HTTP): the
upload is created, then sent in chunks; after a broken connection the command asks the
server how much arrived and sends the rest, up to --retries times in a row. The upload's
address is kept in a small state file (under --state-dir), so running the same command
again after it gave up goes on where the server stopped rather than starting over. The
server checks the content (PDF, JPEG or PNG, within the selection's limits), computes its
SHA-256 itself and answers with the document's name, which applications refer to. The
command checks that digest against the local file's.`,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&sel, "selection", "", "the selection `ID` (required)")
			fs.StringVar(&kind, "kind", "", "the required document's `ID`, such as ijazah, or objection (required)")
			fs.Int64Var(&chunk, "chunk-size", 1<<20, "bytes per request")
			fs.IntVar(&retries, "retries", 10, "failed requests in a row tried again before giving up")
			fs.StringVar(&stateDir, "state-dir", "", "`DIR` of the unfinished uploads' state files (default: the user's cache directory)")
		},
		run: func(ctx context.Context, inv *invocation, args []string) error {
			if err := requireFlags(inv.fs, "selection", "kind"); err != nil {
				return err
			}
			selName, err := selectionName(sel)
			if err != nil {
				return err
			}
			if chunk < 1024 || retries < 1 {
				return usageErrorf("--chunk-size must be at least 1024 and --retries at least 1")
			}
			f, err := os.Open(args[0])
			if err != nil {
				return usageErrorf("%v", err)
			}
			defer f.Close()
			fi, err := f.Stat()
			if err != nil || !fi.Mode().IsRegular() {
				return usageErrorf("%s is not a regular file", args[0])
			}
			local, err := fileSHA256(f)
			if err != nil {
				return err
			}
			endpoint := strings.TrimSuffix(inv.g.http, "/") + uploadsPath
			if stateDir == "" {
				if stateDir, err = os.UserCacheDir(); err != nil {
					return usageErrorf("no cache directory for the upload state (%v); set --state-dir", err)
				}
				stateDir = filepath.Join(stateDir, "seleksictl", "uploads")
			}
			state := uploadState{path: filepath.Join(stateDir, stateKey(endpoint, selName, kind, local)+".json")}
			c := &tusclient.Client{HTTP: inv.httpClient(), Token: inv.g.token, AcceptLanguage: inv.g.lang, ChunkSize: chunk, Retries: retries}
			u := state.load()
			if u != "" && tusclient.SameUpload(endpoint, u) {
				off, err := c.Offset(ctx, u)
				var te *tusclient.Error
				switch {
				case err == nil:
					fmt.Fprintf(inv.app.Stderr, "resuming the upload at %d of %d bytes\n", off, fi.Size())
				case errors.As(err, &te) && te.Status == http.StatusNotFound:
					// Expired or already finished: start again.
					u = ""
				default:
					return uploadError(err)
				}
			} else {
				u = ""
			}
			if u == "" {
				if u, err = c.Create(ctx, endpoint, fi.Size(), map[string]string{
					"selection": selName, "kind": kind, "filename": filepath.Base(args[0])}); err != nil {
					return uploadError(err)
				}
				if err := state.save(u); err != nil {
					fmt.Fprintf(inv.app.Stderr, "warning: the upload cannot be resumed by running the command again: %v\n", err)
				}
			}
			fin, err := c.Send(ctx, u, f, fi.Size(), nil)
			if err != nil {
				var te *tusclient.Error
				if errors.As(err, &te) && te.Status < 500 {
					// The server refused the file: resuming cannot help.
					state.remove()
				} else {
					fmt.Fprintln(inv.app.Stderr, "the upload stopped; run the same command again to resume it")
				}
				return uploadError(err)
			}
			state.remove()
			var doc struct {
				Name      string `json:"name"`
				MediaType string `json:"mediaType"`
				SizeBytes string `json:"sizeBytes"`
				SHA256    string `json:"sha256"`
			}
			_ = json.Unmarshal(fin.Body, &doc)
			if doc.SHA256 != "" && doc.SHA256 != local {
				return fmt.Errorf("the server stored digest %s, the local file's is %s", doc.SHA256, local)
			}
			if inv.g.output == "json" {
				_, err = fmt.Fprintf(inv.app.Stdout, "%s\n", fin.Body)
				return err
			}
			t := &table{tw: tabwriter.NewWriter(inv.app.Stdout, 0, 0, 2, ' ', 0)}
			t.field("Document", fin.Document)
			t.field("Type", doc.MediaType)
			t.field("Size", doc.SizeBytes)
			t.field("SHA-256", doc.SHA256)
			return t.tw.Flush()
		},
	}
}

// uploadError turns the server's refusal into the exit code scripts rely on.
func uploadError(err error) error {
	var te *tusclient.Error
	if !errors.As(err, &te) {
		return err
	}
	code := ExitFailure
	switch {
	case te.Status == http.StatusNotFound:
		code = ExitNotFound
	case te.Status == http.StatusUnauthorized || te.Status == http.StatusForbidden:
		code = ExitDenied
	case te.Status == http.StatusUnprocessableEntity && strings.Contains(string(te.Body), "document.window_closed"):
		code = ExitPrecondition
	case te.Status >= 400 && te.Status < 500:
		code = ExitUsage
	}
	return &codedError{code: code, err: err}
}

func fileSHA256(f *os.File) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, 1<<62)); err != nil {
		return "", fmt.Errorf("read %s: %w", f.Name(), err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// stateKey names an upload's state file: the same file for the same selection and kind on
// the same server is the same upload.
func stateKey(endpoint, sel, kind, digest string) string {
	s := sha256.Sum256([]byte(endpoint + "\x00" + sel + "\x00" + kind + "\x00" + digest))
	return hex.EncodeToString(s[:16])
}

// uploadState is the small file that remembers an unfinished upload's address.
type uploadState struct{ path string }

func (s uploadState) load() string {
	b, err := os.ReadFile(s.path)
	if err != nil {
		return ""
	}
	var v struct {
		URL string `json:"url"`
	}
	_ = json.Unmarshal(b, &v)
	return v.URL
}

func (s uploadState) save(u string) error {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return err
	}
	b, _ := json.Marshal(map[string]string{"url": u, "created": time.Now().UTC().Format(time.RFC3339)})
	return os.WriteFile(s.path, b, 0o600)
}

func (s uploadState) remove() { _ = os.Remove(s.path) }

func documentList() *command {
	var p pageFlags
	var sel string
	return &command{
		path: "document list", args: "--selection S [--filter F] [--page-size N] [--page-token T]", nargs: 0,
		summary: "list a selection's documents: a candidate's own, or all for committee, admin, auditor",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&sel, "selection", "", "the selection `ID` (required)")
			p.register(fs, true)
		},
		run: func(ctx context.Context, inv *invocation, _ []string) error {
			if err := requireFlags(inv.fs, "selection"); err != nil {
				return err
			}
			name, err := selectionName(sel)
			if err != nil {
				return err
			}
			resp, err := inv.documents.ListDocuments(ctx, &seleksiv1.ListDocumentsRequest{Selection: name,
				PageSize: int32(p.pageSize), PageToken: p.pageToken, Filter: p.filter, OrderBy: p.orderBy})
			if err != nil {
				return err
			}
			err = inv.print(resp, func(t *table) {
				t.row("DOCUMENT", "KIND", "FILE", "TYPE", "SIZE", "STATE", "OWNER", "UPLOADED")
				for _, d := range resp.GetDocuments() {
					t.row(d.GetName(), d.GetKind(), d.GetFileName(), d.GetMediaType(), strconv.FormatInt(d.GetSizeBytes(), 10),
						slug(d.GetState()), d.GetOwner(), fmtTime(d.GetCreateTime()))
				}
			})
			inv.nextPage(resp.GetNextPageToken())
			return err
		},
	}
}

func documentGet() *command {
	var out string
	return &command{
		path: "document get", args: "ID [-O FILE|-]", nargs: 1,
		summary: "show a document, or download it with -O (owner, committee, admin, auditor)",
		help: `Without -O the document's description is shown. With -O the content is streamed into
FILE (- for stdout) and checked against the SHA-256 the server recorded; a transfer that
breaks off or does not match leaves no file behind. Every read of another person's
document, and every download, is recorded with its reader (see the accesses of a
document over REST: GET /v1/documents/ID/accesses).`,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&out, "O", "", "`FILE` to write the content to, - for stdout")
		},
		run: func(ctx context.Context, inv *invocation, args []string) error {
			name, err := documentName(args[0])
			if err != nil {
				return err
			}
			if out == "" {
				resp, err := inv.documents.GetDocument(ctx, &seleksiv1.GetDocumentRequest{Name: name})
				if err != nil {
					return err
				}
				d := resp.GetDocument()
				return inv.print(resp, func(t *table) {
					t.field("Document", d.GetName())
					t.field("Selection", d.GetSelection())
					t.field("Owner", d.GetOwner())
					t.field("Kind", d.GetKind())
					t.field("File", d.GetFileName())
					t.field("Type", d.GetMediaType())
					t.field("Size", strconv.FormatInt(d.GetSizeBytes(), 10))
					t.field("SHA-256", d.GetSha256())
					if d.GetPages() > 0 {
						t.field("Pages", strconv.Itoa(int(d.GetPages())))
					}
					t.field("State", slug(d.GetState()))
					t.field("Application", d.GetApplication())
					t.field("Uploaded", fmtTime(d.GetCreateTime()))
				})
			}
			return downloadDocument(ctx, inv, name, out)
		},
	}
}

// downloadDocument streams a document into out (a temporary file renamed into place once
// its digest checks out) or, once checked, to stdout.
func downloadDocument(ctx context.Context, inv *invocation, name, out string) error {
	stream, err := inv.documents.DownloadDocument(ctx, &seleksiv1.DownloadDocumentRequest{Name: name})
	if err != nil {
		return err
	}
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	head := first.GetHeader()
	if head == nil {
		return errors.New("the download did not start with the document's description")
	}
	dir := os.TempDir()
	if out != "-" {
		dir = filepath.Dir(out)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(out)+".*")
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	defer func() {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
	}()
	h := sha256.New()
	w := io.MultiWriter(tmp, h)
	var n int64
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		k, err := w.Write(msg.GetChunk())
		if err != nil {
			return fmt.Errorf("download: %w", err)
		}
		n += int64(k)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); n != head.GetSizeBytes() || sum != head.GetSha256() {
		return &codedError{code: ExitVerification, err: fmt.Errorf("the download does not match the document: %d bytes with SHA-256 %s, want %d bytes with %s",
			n, sum, head.GetSizeBytes(), head.GetSha256())}
	}
	if out == "-" {
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return err
		}
		_, err := io.Copy(inv.app.Stdout, tmp)
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("download: %w", err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("download: %w", err)
	}
	fmt.Fprintf(inv.app.Stderr, "%s: %d bytes, SHA-256 %s\n", out, n, head.GetSha256())
	return nil
}
