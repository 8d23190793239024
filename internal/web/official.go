package web

import (
	"net/http"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
)

// Official documents (issue 13 §3): the public verification page a document's QR code
// opens, and each selection's list of documents. Both read OfficialDocumentService, which
// is public, with whatever identity the visitor has.

func (s *Server) officialRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /verify/{document}", s.verifyPage)
	mux.HandleFunc("GET /seleksi/{id}/dokumen", s.officialDocumentsPage)
}

// verifyData is what the verification page shows of one document.
type verifyData struct {
	Doc       *seleksiv1.OfficialDocument
	Selection *seleksiv1.Selection
	// SupersededBy is the revision in force, when this one is superseded.
	SupersededBy *seleksiv1.OfficialDocument
	Keys         []*seleksiv1.OfficialDocumentKey
}

// verifyPage shows whether a document is authentic and in force: its issuer, number, kind,
// date, digest and key, its status (valid, superseded by revision N, or failing its checks),
// and its file and signature. An unknown number is a 404 page that says so.
func (s *Server) verifyPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("document")
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	resp, err := s.api.official.GetOfficialDocument(ctx, &seleksiv1.GetOfficialDocumentRequest{Name: "officialDocuments/" + id})
	if code := status.Code(err); code == codes.NotFound || code == codes.InvalidArgument {
		s.render(w, r, http.StatusNotFound, "official/unknown", id)
		return
	}
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	d := verifyData{Doc: resp.GetOfficialDocument()}
	sel, err := s.api.selections.GetSelection(ctx, &seleksiv1.GetSelectionRequest{Name: d.Doc.GetSelection()})
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	d.Selection = sel.GetSelection()
	if next := d.Doc.GetSupersededBy(); next != "" {
		// The revision in force is the last of the chain; the page names the next one and
		// its revision number.
		n, err := s.api.official.GetOfficialDocument(ctx, &seleksiv1.GetOfficialDocumentRequest{Name: next})
		if err != nil {
			s.apiFailed(w, r, err)
			return
		}
		d.SupersededBy = n.GetOfficialDocument()
	}
	keys, err := s.api.official.ListOfficialDocumentKeys(ctx, &seleksiv1.ListOfficialDocumentKeysRequest{})
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	for _, k := range keys.GetKeys() {
		if k.GetKeyId() == d.Doc.GetKeyId() {
			d.Keys = append(d.Keys, k)
		}
	}
	s.render(w, r, http.StatusOK, "official/verify", d)
}

// officialDocumentsData is a selection's list of documents.
type officialDocumentsData struct {
	ID        string
	Selection *seleksiv1.Selection
	Docs      []*seleksiv1.OfficialDocument
}

// officialDocumentsPage lists a selection's official documents in issue order, each with its
// verification page and file.
func (s *Server) officialDocumentsPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ctx, sel, ok := s.loadSelection(w, r, id)
	if !ok {
		return
	}
	resp, err := s.api.official.ListOfficialDocuments(ctx, &seleksiv1.ListOfficialDocumentsRequest{Parent: "selections/" + id})
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "official/list", officialDocumentsData{ID: id, Selection: sel, Docs: resp.GetOfficialDocuments()})
}

// officialID is the ID in an official document's name (officialDocuments/{id}).
func officialID(name string) string { return strings.TrimPrefix(name, "officialDocuments/") }
