package workflows

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"

	"go.temporal.io/sdk/workflow"
)

// Temporal answers a repeated Update ID with its first answer only within one run. The
// answers of the most recent updates therefore travel in the state across continue-as-new:
// a retry that reaches the next run gets the first answer, and the same ID with other
// arguments is refused, instead of being validated and applied as a new command. The API
// also asks the store's ledger, which keeps every command of every run; this covers direct
// Temporal clients and the window before the ledger answers.

// ChangeIDUpdateAnswers marks runs that keep UpdateAnswers in the state. Runs recorded before
// it replay without them, so the state they hand over is the one they recorded.
const ChangeIDUpdateAnswers = "update-answers"

// maxAnswers bounds the answers kept: retries come within minutes, continue-as-new happens
// after thousands of events.
const maxAnswers = 100

// UpdateAnswer is the answer an accepted update got, by its ID.
type UpdateAnswer struct {
	Key string `json:"key"`
	// ArgsSHA256 is the SHA-256 of the arguments' JSON.
	ArgsSHA256 string       `json:"argsSha256"`
	Result     UpdateResult `json:"result"`
}

// argsDigest is the SHA-256 of an update's arguments as JSON. Encoding these structs is
// deterministic (fields in declaration order, no maps), so a retry of the same request
// digests the same in every run and on replay; workflowcheck flags encoding/json only for
// the reflection cache it fills.
func argsDigest(a any) string {
	//workflowcheck:ignore
	b, err := json.Marshal(a)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func (s *selection) answerOf(key string) (UpdateAnswer, bool) {
	i := slices.IndexFunc(s.st.Answers, func(a UpdateAnswer) bool { return a.Key == key })
	if i < 0 {
		return UpdateAnswer{}, false
	}
	return s.st.Answers[i], true
}

func (s *selection) remember(key string, args any, res UpdateResult) {
	if !s.keepAnswers || key == "" {
		return
	}
	kept := s.st.Answers
	if len(kept) >= maxAnswers {
		kept = kept[len(kept)-maxAnswers+1:]
	}
	s.st.Answers = append(slices.Clone(kept), UpdateAnswer{Key: key, ArgsSHA256: argsDigest(args), Result: res})
}

// requestIDReused refuses an update ID that an earlier run answered for other arguments.
func requestIDReused() error {
	return rejectMsg(RejectDuplicate, code("reject.duplicate.request_id_reused"))
}

// answeredValidator lets a retry of an answered update through (its handler answers it)
// and refuses the same ID with other arguments; anything else goes to the command's own
// validator.
func answeredValidator[A any](s *selection, validate func(workflow.Context, A) error) func(workflow.Context, A) error {
	return func(ctx workflow.Context, a A) error {
		if prior, ok := s.answerOf(workflow.GetCurrentUpdateInfo(ctx).ID); ok {
			if prior.ArgsSHA256 == argsDigest(a) {
				return nil
			}
			return requestIDReused()
		}
		return validate(ctx, a)
	}
}

// answeredHandler answers a retry of an answered update with its first answer, and
// remembers the answer of a new one.
func answeredHandler[A any](s *selection, handle func(workflow.Context, A) (UpdateResult, error)) func(workflow.Context, A) (UpdateResult, error) {
	return func(ctx workflow.Context, a A) (UpdateResult, error) {
		key := workflow.GetCurrentUpdateInfo(ctx).ID
		if prior, ok := s.answerOf(key); ok {
			if prior.ArgsSHA256 != argsDigest(a) {
				return UpdateResult{}, requestIDReused()
			}
			return prior.Result, nil
		}
		res, err := handle(ctx, a)
		if err == nil {
			s.remember(key, a, res)
		}
		return res, err
	}
}
