package main

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"

	"github.com/bkpsdm/seleksi/internal/documents/doctest"
	"github.com/bkpsdm/seleksi/internal/documents/tusclient"
)

// withDocuments uploads, as the candidate with token, a small PDF for each document of an
// application body that names no uploaded document yet, through seleksid's resumable upload
// route (the tus client seleksictl uses), and names the documents in the body, which it
// returns. Applications name uploaded documents; a retried submission must send the same
// body, so call this once per application.
func (a api) withDocuments(body map[string]any, token, selectionID string) map[string]any {
	a.t.Helper()
	docs, _ := body["documents"].([]map[string]any)
	for _, d := range docs {
		if _, ok := d["document"]; ok {
			continue
		}
		kind := fmt.Sprint(d["kind"])
		cand, _ := body["candidate"].(map[string]any)
		seed := fnv.New64a()
		fmt.Fprintf(seed, "%s of %v for %s", kind, cand["nip"], selectionID)
		d["document"] = a.uploadDocument(token, selectionID, kind, seed.Sum64())
	}
	return body
}

// uploadDocument uploads, as the candidate with token, a small PDF of the kind for the
// selection and returns its name, documents/{id}.
func (a api) uploadDocument(token, selectionID, kind string, seed uint64) string {
	a.t.Helper()
	c := &tusclient.Client{HTTP: a.http, Token: token, Retries: 3}
	content := doctest.PDF(2048, seed)
	ctx := context.Background()
	u, err := c.Create(ctx, a.base+"/v1/uploads/", int64(len(content)),
		map[string]string{"selection": "selections/" + selectionID, "kind": kind, "filename": kind + ".pdf"})
	if err != nil {
		a.t.Fatalf("upload %s: %v", kind, err)
	}
	fin, err := c.Send(ctx, u, bytes.NewReader(content), int64(len(content)), nil)
	if err != nil {
		a.t.Fatalf("upload %s: %v", kind, err)
	}
	return fin.Document
}
