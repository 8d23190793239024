package notify

import "regexp"

// addressLike matches anything shaped like an e-mail address. Mail relays often quote the
// recipient in their errors ("550 <name@example.go.id>: mailbox unavailable"), and an
// address is personal data, which stays out of the log.
var addressLike = regexp.MustCompile(`[^\s<>"'(),;:\[\]]+@[^\s<>"'(),;:\[\]]+`)

// redacted is an error's text for the log, with every e-mail address replaced.
func redacted(err error) string {
	if err == nil {
		return ""
	}
	return addressLike.ReplaceAllString(err.Error(), "<address>")
}
