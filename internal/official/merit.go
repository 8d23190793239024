package official

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/report"
	"github.com/bkpsdm/seleksi/internal/store"
)

// DefinitionFunc decodes what the reports need of a selection's stored definition. The
// decoding belongs to the API layer (it starts selections from the same definition), so the
// caller passes it in.
type DefinitionFunc func(store.Selection) (report.Definition, error)

// MeritComplianceReport is the merit-compliance report (laporan kepatuhan sistem merit,
// issue 13) as an official document: issued once when a selection closes, by appointment or
// cancellation, so that BKN receives a signed, numbered statement of each item of the merit
// system, its findings, and the audit events that prove them. The report is computed at the
// job's issue time, which the first claim fixes, so that a re-render (verification) states
// the same.
func MeritComplianceReport(def DefinitionFunc) Kind {
	return Kind{Name: store.OfficialMeritComplianceReport, Code: "MERIT", Build: func(ctx context.Context, src Source) (Built, error) {
		return buildMeritCompliance(ctx, src, def)
	}}
}

// ComplianceStatusText is an item's status for people.
func ComplianceStatusText(s report.Status) Text {
	switch s {
	case report.StatusMet:
		return T("Terpenuhi", "Met")
	case report.StatusNotMet:
		return T("Tidak terpenuhi", "Not met")
	}
	return T("Tidak berlaku", "Not applicable")
}

func buildMeritCompliance(ctx context.Context, src Source, def DefinitionFunc) (Built, error) {
	s := src.Selection
	if def == nil {
		return Built{}, fmt.Errorf("merit-compliance report of %s: no definition decoder", s.ID)
	}
	d, err := def(s)
	if err != nil {
		return Built{}, fmt.Errorf("merit-compliance report of %s: definition: %w", s.ID, err)
	}
	f, err := report.Load(ctx, src.Store, s, d)
	if err != nil {
		return Built{}, err
	}
	c := report.MeritCompliance(f, cmp.Or(src.Job.IssueTime, s.UpdateTime))
	return Built{Content: ComplianceContent(src.Catalog, c, s.TimeZone)}, nil
}

// ComplianceContent lays a merit-compliance report out as an official document: the
// selection, the audit chain it was computed from, and one row per item with its status, its
// findings in both languages and the sequence numbers of its evidence in the audit log.
func ComplianceContent(cat *i18n.Catalog, c report.Compliance, zone string) Content {
	stage := StageTitle(c.Stage)
	notMet := c.NotMet()
	head := c.AuditHead
	if len(head) > 16 {
		head = head[:16] + "…"
	}
	out := Content{Title: T("Laporan Kepatuhan Sistem Merit", "Merit-System Compliance Report")}
	out.Blocks = append(out.Blocks,
		F(KV("Jabatan", "Position", c.PositionTitle), KV("Instansi", "Agency", c.Agency), KV("Kode seleksi", "Selection", c.SelectionID),
			KV("Tahap", "Stage", stage.ID+" / "+stage.EN),
			KV("Jejak audit", "Audit log", fmt.Sprintf("%d peristiwa / events; %s", c.AuditSeq, cmp.Or(head, "-"))),
			KV("Dihitung", "Computed", FormatDate(c.GenerateTime.In(ZoneLocation(zone))))),
		P(fmt.Sprintf("Laporan ini menilai seleksi terhadap %d butir sistem merit; %d butir tidak terpenuhi.", len(c.Items), notMet),
			fmt.Sprintf("This report checks the selection against %d items of the merit system; %d items are not met.", len(c.Items), notMet)),
	)
	t := &Table{Columns: []Text{T("No.", "No."), T("Butir", "Item"), T("Status", "Status"), T("Temuan", "Findings"), T("Bukti (no. audit)", "Evidence (audit no.)")},
		Widths: []float64{1, 4, 2.6, 8, 2.6}}
	for i, it := range c.Items {
		title := cat.Text(i18n.Msg{Code: "report." + it.Code + ".title"})
		st := ComplianceStatusText(it.Status)
		var findings []string
		for _, m := range it.Findings {
			tx := cat.Text(m)
			findings = append(findings, tx.ID)
			if tx.EN != "" && tx.EN != tx.ID {
				findings = append(findings, tx.EN)
			}
		}
		ev := make([]string, 0, len(it.Evidence))
		for _, seq := range it.Evidence {
			ev = append(ev, strconv.FormatInt(seq, 10))
		}
		evidence := cmp.Or(strings.Join(ev, ", "), "-")
		t.Rows = append(t.Rows, []string{strconv.Itoa(i + 1), title.ID + "\n" + title.EN, st.ID + "\n" + st.EN, strings.Join(findings, "\n"), evidence})
	}
	out.Blocks = append(out.Blocks, Block{Table: t},
		P("Kolom bukti memuat nomor urut peristiwa dalam jejak audit seleksi; setiap peristiwa dapat diperiksa pada linimasa auditor dan rantai audit yang ditandatangani.",
			"The evidence column holds the sequence numbers of events in the selection's audit log; each can be checked on the auditor's timeline and in the signed audit chain."))
	return out
}
