package cli

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
)

func auditList() *command {
	var p pageFlags
	return &command{
		path: "audit list", args: "ID [--filter F] [--page-size N] [--page-token T]", nargs: 1,
		summary: "list a selection's audit events in sequence order (auditor, admin)",
		flags:   func(fs *flag.FlagSet) { p.register(fs, false) },
		run: func(ctx context.Context, inv *invocation, args []string) error {
			parent, err := selectionName(args[0])
			if err != nil {
				return err
			}
			resp, err := inv.audit.ListAuditEvents(ctx, &seleksiv1.ListAuditEventsRequest{
				Parent: parent, PageSize: int32(p.pageSize), PageToken: p.pageToken, Filter: p.filter,
			})
			if err != nil {
				return err
			}
			err = inv.print(resp, func(t *table) {
				t.row("SEQ", "TIME", "ACTOR", "ROLE", "ACTION", "TARGET", "REASON")
				for _, e := range resp.GetAuditEvents() {
					t.row(strconv.FormatUint(e.GetSequence(), 10), fmtTime(e.GetWorkflowTime()), e.GetActorSubject(),
						slug(e.GetRole()), e.GetAction(), e.GetTarget(), e.GetReason())
				}
			})
			inv.nextPage(resp.GetNextPageToken())
			return err
		},
	}
}

func auditVerify() *command {
	var replay bool
	return &command{
		path: "audit verify", args: "ID [--replay]", nargs: 1,
		summary: "verify a selection's audit trail against its workflow history (auditor); exit 3 on findings",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&replay, "replay", false, "also replay the history through the current workflow code (slower)")
		},
		run: func(ctx context.Context, inv *invocation, args []string) error {
			name, err := selectionName(args[0])
			if err != nil {
				return err
			}
			resp, err := inv.audit.VerifySelection(ctx, &seleksiv1.VerifySelectionRequest{Name: name, Replay: replay})
			if err != nil {
				return err
			}
			r := resp.GetReport()
			if err := inv.print(resp, func(t *table) {
				verdict := "ok"
				if !r.GetOk() {
					verdict = fmt.Sprintf("NOT OK: %d finding(s)", len(r.GetFindings()))
				}
				t.row("Selection", name)
				t.row("Result", verdict)
				t.row("Events checked", strconv.FormatUint(r.GetEventsChecked(), 10))
				t.row("Replayed", strconv.FormatBool(r.GetReplayed()))
				t.field("Verified", fmtTime(r.GetVerifyTime()))
				if len(r.GetFindings()) > 0 {
					t.blank()
					t.row("KIND", "EVENTS", "HISTORY EVENTS", "MESSAGE")
					for _, f := range r.GetFindings() {
						t.row(slug(f.GetKind()), joinInts(f.GetEventSequences()), joinInts(f.GetHistoryEventIds()), f.GetMessage())
					}
				}
			}); err != nil {
				return err
			}
			if !r.GetOk() {
				return &codedError{code: ExitVerification,
					err: fmt.Errorf("verification of %s found %d problem(s)", name, len(r.GetFindings()))}
			}
			return nil
		},
	}
}

func joinInts[T uint64 | int64](v []T) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ",")
}

func auditKey() *command {
	return &command{
		path: "audit key", args: "", nargs: 0,
		summary: "show the public key export bundles are signed with (public)",
		run: func(ctx context.Context, inv *invocation, _ []string) error {
			resp, err := inv.audit.GetSigningKey(ctx, &seleksiv1.GetSigningKeyRequest{})
			if err != nil {
				return err
			}
			if inv.g.output == "json" {
				return inv.print(resp, nil)
			}
			// The PEM block is printed as is, so the output can be saved as the key file.
			w := inv.app.Stdout
			_, err = fmt.Fprintf(w, "Key ID     %s\nAlgorithm  %s\n\n%s", resp.GetKeyId(), resp.GetAlgorithm(), resp.GetPublicKeyPem())
			if err == nil && !strings.HasSuffix(resp.GetPublicKeyPem(), "\n") {
				_, err = fmt.Fprintln(w)
			}
			return err
		},
	}
}
