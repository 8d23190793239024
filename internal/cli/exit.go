package cli

import (
	"errors"
	"fmt"

	"buf.build/go/protovalidate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Exit codes scripts can rely on; usage lists them.
const (
	ExitOK           = 0 // success
	ExitFailure      = 1 // the server failed or could not be reached
	ExitUsage        = 2 // bad flags, arguments or input file, or the server's INVALID_ARGUMENT
	ExitVerification = 3 // audit verification found problems
	ExitNotFound     = 4 // the resource does not exist (or is not published yet)
	ExitDenied       = 5 // unauthenticated or permission denied
	ExitPrecondition = 6 // wrong stage, closed window, already exists: the state forbids it
)

// usageError is a mistake in the command line or an input file (exit code 2), found before
// anything was sent.
type usageError struct {
	msg string
	// details are printed one per line after the message, such as the rows of a score sheet
	// that do not parse or the fields of a YAML file that break the API's rules.
	details []string
}

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// codedError carries an exit code other than the one its cause would map to, such as a
// verification report that is not ok.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

// exitCode maps a gRPC status code to the documented exit codes.
func exitCode(c codes.Code) int {
	switch c {
	case codes.OK:
		return ExitOK
	case codes.InvalidArgument, codes.OutOfRange:
		return ExitUsage
	case codes.NotFound:
		return ExitNotFound
	case codes.Unauthenticated, codes.PermissionDenied:
		return ExitDenied
	case codes.FailedPrecondition, codes.AlreadyExists, codes.Aborted:
		return ExitPrecondition
	default:
		return ExitFailure
	}
}

// report prints err on stderr and returns the exit code for it. The server's message is
// printed as it comes: the server already wrote it in the language of --lang.
func (a *App) report(err error, inv *invocation) int {
	if err == nil {
		return ExitOK
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintln(a.Stderr, "seleksictl:", ue.msg)
		for _, d := range ue.details {
			fmt.Fprintln(a.Stderr, "  "+d)
		}
		return ExitUsage
	}
	var ce *codedError
	if errors.As(err, &ce) {
		fmt.Fprintln(a.Stderr, "seleksictl:", ce.err)
		return ce.code
	}
	var se interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &se) {
		fmt.Fprintln(a.Stderr, "seleksictl:", err)
		return ExitFailure
	}
	st := se.GRPCStatus()
	switch st.Code() {
	case codes.Unavailable:
		server := ""
		if inv != nil {
			server = " " + inv.g.server
		}
		fmt.Fprintf(a.Stderr, "seleksictl: server%s unavailable: %s\n", server, st.Message())
	case codes.DeadlineExceeded:
		fmt.Fprintf(a.Stderr, "seleksictl: no answer within --timeout: %s\n", st.Message())
	default:
		fmt.Fprintf(a.Stderr, "seleksictl: %s (%s)\n", st.Message(), st.Code())
	}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				fmt.Fprintf(a.Stderr, "  %s: %s\n", v.GetField(), v.GetDescription())
			}
		case *errdetails.PreconditionFailure:
			for _, v := range d.GetViolations() {
				fmt.Fprintf(a.Stderr, "  %s %s: %s\n", v.GetType(), v.GetSubject(), v.GetDescription())
			}
		}
	}
	code := exitCode(st.Code())
	// When the outcome of a command is unknown, the same request ID makes a retry safe.
	if code == ExitFailure && inv != nil && inv.requestID != "" && inv.cmd.path != "results record" {
		fmt.Fprintf(a.Stderr, "seleksictl: to retry safely, run the command again with --request-id %s\n", inv.requestID)
	}
	return code
}

// retryable reports whether the outcome of a failed call is unknown or transient, so that
// sending it again with the same request ID is the right advice.
func retryable(err error) bool {
	var ue *usageError
	if errors.As(err, &ue) {
		return false
	}
	return exitCode(status.Code(err)) == ExitFailure
}

// validationError turns a protovalidate failure into a usage error that lists each broken
// rule with the field it concerns, as the server would.
func validationError(what string, err error) error {
	var verr *protovalidate.ValidationError
	if !errors.As(err, &verr) {
		return fmt.Errorf("%s: cannot check: %w", what, err)
	}
	ue := &usageError{msg: what + " breaks the API's rules; nothing was sent"}
	for _, v := range verr.Violations {
		ue.details = append(ue.details, violationText(v))
	}
	return ue
}

func violationText(v *protovalidate.Violation) string {
	path := protovalidate.FieldPathString(v.Proto.GetField())
	if path == "" {
		return v.Proto.GetMessage()
	}
	return path + ": " + v.Proto.GetMessage()
}
