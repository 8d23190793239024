package cli

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
)

// The notification outbox: what candidates were told or are still to be told, and the dead
// letters that could not be delivered.

func notificationList() *command {
	var p pageFlags
	var dead bool
	var selection string
	return &command{
		path: "notification list", args: "[--dead] [--selection ID] [--filter F] [--page-size N] [--page-token T]", nargs: 0,
		summary: "list queued, sent and dead-letter notifications (admin, auditor)",
		help: `--dead lists the dead letters: notifications whose attempts ran out or that the mail
relay refused for good. Retry one with 'seleksictl notification retry ID' once the cause is
fixed. LAST ERROR is the relay's answer, without addresses.`,
		flags: func(fs *flag.FlagSet) {
			p.register(fs, true)
			fs.BoolVar(&dead, "dead", false, "only dead letters (filter state = DEAD)")
			fs.StringVar(&selection, "selection", "", "only notifications of this selection (an ID)")
		},
		run: func(ctx context.Context, inv *invocation, _ []string) error {
			filter, err := notificationFilter(p.filter, dead, selection)
			if err != nil {
				return err
			}
			resp, err := inv.notifications.ListNotifications(ctx, &seleksiv1.ListNotificationsRequest{
				PageSize: int32(p.pageSize), PageToken: p.pageToken, Filter: filter, OrderBy: p.orderBy,
			})
			if err != nil {
				return err
			}
			err = inv.print(resp, func(t *table) {
				t.row("ID", "SELECTION", "APPLICATION", "STATE", "ATTEMPTS", "CREATED", "NEXT ATTEMPT", "LAST ERROR")
				for _, n := range resp.GetNotifications() {
					t.row(strings.TrimPrefix(n.GetName(), "notifications/"), strings.TrimPrefix(n.GetSelection(), "selections/"),
						lastSegment(n.GetApplication()), notificationState(n.GetState()), strconv.Itoa(int(n.GetAttempts())),
						fmtTime(n.GetCreateTime()), fmtTime(n.GetNextAttemptTime()), n.GetLastError())
				}
			})
			if err == nil && inv.g.output == "table" {
				fmt.Fprintf(inv.app.Stderr, "%d notifications match\n", resp.GetTotalSize())
			}
			inv.nextPage(resp.GetNextPageToken())
			return err
		},
	}
}

// notificationFilter joins --filter with the shortcuts --dead and --selection.
func notificationFilter(filter string, dead bool, selection string) (string, error) {
	var parts []string
	if strings.TrimSpace(filter) != "" {
		parts = append(parts, filter)
	}
	if dead {
		parts = append(parts, "state = DEAD")
	}
	if selection != "" {
		name, err := selectionName(selection)
		if err != nil {
			return "", err
		}
		parts = append(parts, "selection = "+strings.TrimPrefix(name, "selections/"))
	}
	return strings.Join(parts, " AND "), nil
}

func notificationRetry() *command {
	return &command{
		// Up to 100 IDs at once: after an outage the secretariat retries many dead letters.
		path: "notification retry", args: "ID...", nargs: 100, optArgs: true,
		summary: "send notifications again now, such as dead letters once the cause is fixed (admin)",
		help: `Each ID is a notification's ID or name (notifications/ID), as 'notification list'
shows it. A retried notification is due at once with a fresh set of attempts; one already
sent is refused (exit code 6), as it is never sent twice. Retrying is safe to repeat.`,
		run: func(ctx context.Context, inv *invocation, args []string) error {
			if len(args) == 0 {
				return usageErrorf("notification retry needs at least one notification ID")
			}
			resp := &seleksiv1.ListNotificationsResponse{}
			for _, a := range args {
				id := strings.TrimPrefix(a, "notifications/")
				if id == "" || strings.ContainsAny(id, "/ ") {
					return usageErrorf("%q is not a notification ID", a)
				}
				r, err := inv.notifications.RetryNotification(ctx, &seleksiv1.RetryNotificationRequest{Name: "notifications/" + id})
				if err != nil {
					return err
				}
				resp.Notifications = append(resp.Notifications, r.GetNotification())
			}
			if len(resp.Notifications) == 1 {
				n := resp.Notifications[0]
				return inv.print(&seleksiv1.RetryNotificationResponse{Notification: n}, func(t *table) { notificationTable(t, n) })
			}
			return inv.print(resp, func(t *table) {
				for i, n := range resp.GetNotifications() {
					if i > 0 {
						t.blank()
					}
					notificationTable(t, n)
				}
			})
		},
	}
}

func notificationTable(t *table, n *seleksiv1.Notification) {
	t.field("Notification", n.GetName())
	t.field("Selection", n.GetSelection())
	t.field("Application", n.GetApplication())
	t.field("State", notificationState(n.GetState()))
	t.field("Attempts", strconv.Itoa(int(n.GetAttempts())))
	t.field("Last error", n.GetLastError())
}

func notificationState(s seleksiv1.NotificationState) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "NOTIFICATION_STATE_"))
}

func lastSegment(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[i+1:]
	}
	return name
}
