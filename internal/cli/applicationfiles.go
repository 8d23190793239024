package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/documents/tusclient"
)

// An application file names each document either by an uploaded document
// (`document: documents/ID`) or by a local file (`file: ./ijazah.pdf`, relative to the
// application file), which `application submit` uploads first, resumably, and then names by
// the document the server made of it.

// localDocument is a document of an application file given as a local file.
type localDocument struct {
	index int
	kind  string
	path  string
}

// decodeApplication reads an application file: the Application message, with every
// `file:` taken out of its documents and returned to be uploaded. dir is where relative
// paths start.
func decodeApplication(b []byte, name, dir string) (*seleksiv1.Application, []localDocument, error) {
	js, err := yaml.YAMLToJSON(b)
	if err != nil {
		return nil, nil, usageErrorf("%s: not valid YAML: %v", name, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(js, &raw); err != nil {
		return nil, nil, usageErrorf("%s: an application is a mapping: %v", name, err)
	}
	var locals []localDocument
	if docs, ok := raw["documents"]; ok {
		var list []map[string]any
		if err := json.Unmarshal(docs, &list); err != nil {
			return nil, nil, usageErrorf("%s: documents: a list of {kind, document} or {kind, file}: %v", name, err)
		}
		for i, d := range list {
			f, hasFile := d["file"]
			if !hasFile {
				continue
			}
			path, ok := f.(string)
			_, hasDoc := d["document"]
			switch {
			case !ok || path == "":
				return nil, nil, usageErrorf("%s: documents[%d].file: a file name", name, i)
			case hasDoc:
				return nil, nil, usageErrorf("%s: documents[%d]: either document or file, not both", name, i)
			}
			if !filepath.IsAbs(path) {
				path = filepath.Join(dir, path)
			}
			kind, _ := d["kind"].(string)
			locals = append(locals, localDocument{index: i, kind: kind, path: path})
			delete(d, "file")
		}
		if raw["documents"], err = json.Marshal(list); err != nil {
			return nil, nil, err
		}
	}
	if js, err = json.Marshal(raw); err != nil {
		return nil, nil, err
	}
	app := &seleksiv1.Application{}
	if err := protojson.Unmarshal(js, app); err != nil {
		return nil, nil, usageErrorf("%s: %v", name, err)
	}
	return app, locals, nil
}

// uploadLocalDocuments uploads the local files of an application, each as its kind, and
// names the documents they became in app. A file whose upload breaks off is resumed by
// running the command again, as with `document upload`.
func (inv *invocation) uploadLocalDocuments(ctx context.Context, selName string, app *seleksiv1.Application, locals []localDocument) error {
	for _, l := range locals {
		if l.kind == "" {
			return usageErrorf("documents[%d]: the kind of %s is required", l.index, l.path)
		}
		doc, err := inv.uploadFile(ctx, selName, l.kind, l.path)
		if err != nil {
			return fmt.Errorf("upload %s: %w", l.path, err)
		}
		fmt.Fprintf(inv.app.Stderr, "uploaded %s as %s (%s)\n", l.path, doc, l.kind)
		app.GetDocuments()[l.index].Document = doc
	}
	return nil
}

// uploadFile uploads one file as `document upload` does (resumable, its state kept under
// the user's cache directory) and returns the document's name, after checking the digest
// the server computed against the local file's.
func (inv *invocation) uploadFile(ctx context.Context, selName, kind, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", usageErrorf("%v", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return "", usageErrorf("%s is not a regular file", path)
	}
	local, err := fileSHA256(f)
	if err != nil {
		return "", err
	}
	endpoint := strings.TrimSuffix(inv.g.http, "/") + uploadsPath
	var state uploadState
	if dir, err := os.UserCacheDir(); err == nil {
		state.path = filepath.Join(dir, "seleksictl", "uploads", stateKey(endpoint, selName, kind, local)+".json")
	}
	c := &tusclient.Client{HTTP: inv.httpClient(), Token: inv.g.token, AcceptLanguage: inv.g.lang}
	u := ""
	if state.path != "" {
		u = state.load()
	}
	if u != "" {
		var te *tusclient.Error
		if _, err := c.Offset(ctx, u); !tusclient.SameUpload(endpoint, u) || errors.As(err, &te) && te.Status == http.StatusNotFound {
			u = "" // another server, expired or finished: start again
		} else if err != nil {
			return "", uploadError(err)
		}
	}
	if u == "" {
		if u, err = c.Create(ctx, endpoint, fi.Size(), map[string]string{"selection": selName, "kind": kind, "filename": filepath.Base(path)}); err != nil {
			return "", uploadError(err)
		}
		if state.path != "" {
			_ = state.save(u) // without it the upload still works; only a resume starts over
		}
	}
	fin, err := c.Send(ctx, u, f, fi.Size(), nil)
	if err != nil {
		var te *tusclient.Error
		if errors.As(err, &te) && te.Status < 500 && state.path != "" {
			state.remove()
		}
		return "", uploadError(err)
	}
	if state.path != "" {
		state.remove()
	}
	var doc struct {
		SHA256 string `json:"sha256"`
	}
	_ = json.Unmarshal(fin.Body, &doc)
	if doc.SHA256 != "" && doc.SHA256 != local {
		return "", fmt.Errorf("the server stored digest %s, the local file's is %s", doc.SHA256, local)
	}
	if fin.Document == "" {
		return "", errors.New("the server finished the upload without naming its document")
	}
	return fin.Document, nil
}

func applicationReplaceDocument() *command {
	var kind, doc, file string
	return &command{
		path: "application replace-document", args: "NAME --kind K (--document documents/ID | --file FILE)", nargs: 1, mutating: true,
		summary: "replace one document of an application while the announcement is open (candidate: own)",
		help: `--document names a document uploaded before ('seleksictl document upload'); --file uploads a
local file first, resumably. The replaced document stays recorded for the audit. Documents
are frozen at the announcement's close: afterwards the command exits 6.`,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&kind, "kind", "", "the required document's `ID`, such as lhkpn (required)")
			fs.StringVar(&doc, "document", "", "the uploaded document, `documents/ID`")
			fs.StringVar(&file, "file", "", "a local `FILE` to upload and use")
		},
		run: func(ctx context.Context, inv *invocation, args []string) error {
			if err := requireFlags(inv.fs, "kind"); err != nil {
				return err
			}
			name, err := applicationName(args[0])
			if err != nil {
				return err
			}
			switch {
			case (doc == "") == (file == ""):
				return usageErrorf("give either --document or --file")
			case file != "":
				if doc, err = inv.uploadFile(ctx, "selections/"+strings.Split(name, "/")[1], kind, file); err != nil {
					return fmt.Errorf("upload %s: %w", file, err)
				}
			default:
				if doc, err = documentName(doc); err != nil {
					return err
				}
			}
			resp, err := inv.application.ReplaceDocument(ctx, &seleksiv1.ReplaceDocumentRequest{
				Name: name, RequestId: inv.requestID, Kind: kind, Document: doc,
			})
			if err != nil {
				return err
			}
			return inv.print(resp, func(t *table) { inv.applicationTable(t, resp.GetApplication(), true) })
		},
	}
}
