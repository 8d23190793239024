package web

import (
	"fmt"
	"net/http"
	"strings"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/i18n"
)

// candidateRoutes registers the candidate pages: applying (profile, documents, review,
// receipt), their applications, one application's progress with its objection and
// withdrawal, and the upload routes their files travel by.
func (s *Server) candidateRoutes(mux *http.ServeMux) {
	c := func(h http.HandlerFunc) http.HandlerFunc { return s.require(h, auth.RoleCandidate) }
	mux.HandleFunc("GET /lamaran", c(s.myApplications))
	mux.HandleFunc("GET /lamaran/baru/{sel}", c(s.applyProfile))
	mux.HandleFunc("POST /lamaran/baru/{sel}", c(s.applyProfilePost))
	mux.HandleFunc("GET /lamaran/baru/{sel}/dokumen", c(s.applyDocuments))
	mux.HandleFunc("GET /lamaran/baru/{sel}/periksa", c(s.applyReview))
	mux.HandleFunc("POST /lamaran/baru/{sel}/kirim", c(s.applySubmit))
	mux.HandleFunc("GET /lamaran/{sel}/{app}", c(s.applicationDetail))
	mux.HandleFunc("GET /lamaran/{sel}/{app}/tanda-terima", c(s.applicationReceipt))
	mux.HandleFunc("GET /lamaran/{sel}/{app}/tarik", c(s.withdrawConfirm))
	mux.HandleFunc("POST /lamaran/{sel}/{app}/tarik", c(s.withdrawPost))
	mux.HandleFunc("POST /unggah/dokumen", c(s.uploadDocumentForm))
	mux.HandleFunc("POST /unggah/ganti/{sel}/{app}", c(s.replaceDocumentForm))
	mux.HandleFunc("POST /unggah/sanggah/{sel}/{app}", c(s.objectionForm))
	mux.HandleFunc("/unggah/tus/", s.tusRelay)
}

// appRef is how the candidate pages name an application: its selection's ID and its own.
type appRef struct{ Sel, App string }

func (a appRef) name() string      { return "selections/" + a.Sel + "/applications/" + a.App }
func (a appRef) path() string      { return "/lamaran/" + a.Sel + "/" + a.App }
func refOf(r *http.Request) appRef { return appRef{Sel: r.PathValue("sel"), App: r.PathValue("app")} }
func refOfName(name string) appRef {
	parts := strings.Split(name, "/")
	if len(parts) < 4 {
		return appRef{}
	}
	return appRef{Sel: parts[1], App: parts[3]}
}

// listItem is one application on "My applications".
type listItem struct {
	Ref         appRef
	Selection   *seleksiv1.Selection
	Application *seleksiv1.Application
	Status      string
}

// myApplications lists the candidate's applications over every selection: the API lists a
// selection's applications, a candidate's own only, so each selection is asked in turn.
func (s *Server) myApplications(w http.ResponseWriter, r *http.Request) {
	ctx, err := s.call(r)
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	sels, err := s.api.selections.ListSelections(ctx, &seleksiv1.ListSelectionsRequest{PageSize: 100})
	if err != nil {
		s.apiFailed(w, r, err)
		return
	}
	var items []listItem
	for _, sel := range sels.GetSelections() {
		if sel.GetStage() == seleksiv1.Stage_STAGE_SCHEDULED {
			continue // nobody can have applied yet
		}
		apps, err := s.api.applications.ListApplications(ctx, &seleksiv1.ListApplicationsRequest{Parent: sel.GetName(), PageSize: 10})
		if err != nil {
			s.apiFailed(w, r, err)
			return
		}
		for _, a := range apps.GetApplications() {
			items = append(items, listItem{Ref: refOfName(a.GetName()), Selection: sel, Application: a, Status: localizedText(a.GetStatusText(), s.lang(r))})
		}
	}
	s.render(w, r, http.StatusOK, "candidate/list", items)
}

// localizedText picks the page's language from an API text, falling back to the other.
func localizedText(t *seleksiv1.LocalizedText, l i18n.Lang) string {
	if l == i18n.EN && t.GetEn() != "" {
		return t.GetEn()
	}
	if t.GetId() != "" {
		return t.GetId()
	}
	return t.GetEn()
}

// docView is a document as the candidate pages list it.
type docView struct {
	Kind, Title, Name, FileName, MediaType, Size, SHA256 string
	Bytes                                                int64
}

func (d docView) ID() string { return strings.TrimPrefix(d.Name, "documents/") }

// humanSize writes a size as people read it: "820 KB", "1.4 MB" ("1,4 MB" in Indonesian).
func humanSize(n int64, l i18n.Lang) string {
	var out string
	switch {
	case n < 1024:
		out = fmt.Sprintf("%d B", n)
	case n < 1<<20:
		out = fmt.Sprintf("%d KB", (n+512)/1024)
	default:
		out = fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
	if l == i18n.ID {
		out = strings.Replace(out, ".", ",", 1)
	}
	return out
}

// requiredTitles are a selection's required documents' titles by ID.
func requiredTitles(sel *seleksiv1.Selection) map[string]string {
	out := map[string]string{}
	for _, d := range sel.GetRequirements().GetRequiredDocuments() {
		out[d.GetId()] = d.GetTitle()
	}
	return out
}

// refDocs are an application's documents for the pages.
func refDocs(a *seleksiv1.Application, sel *seleksiv1.Selection, l i18n.Lang) []docView {
	titles := requiredTitles(sel)
	var out []docView
	for _, d := range a.GetDocuments() {
		title := titles[d.GetKind()]
		if title == "" {
			title = d.GetKind()
		}
		out = append(out, docView{Kind: d.GetKind(), Title: title, Name: d.GetDocument(), FileName: d.GetFileName(), MediaType: d.GetMediaType(),
			Size: humanSize(d.GetSizeBytes(), l), Bytes: d.GetSizeBytes(), SHA256: d.GetSha256()})
	}
	return out
}
