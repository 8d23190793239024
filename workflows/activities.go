package workflows

import (
	"context"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Activities is everything the selection workflow asks of the outside world. The real
// implementation (internal/activities) writes the store; tests register fakes. Register an
// implementation with worker.RegisterActivity(impl): the activity names are the method names,
// which the workflow uses through the Activity* constants.
//
// Every method must be idempotent on (WorkflowID, Key): Temporal retries activities, and a
// replayed or retried workflow task schedules the same call with the same key again.
type Activities interface {
	// ProjectWindow records in the store when the announcement accepts applications, so that
	// the API can take applications directly (they are not workflow commands). It is called
	// when the announcement opens and at each extension.
	ProjectWindow(ctx context.Context, w WindowProjection) error
	// SnapshotApplications freezes the applications submitted before the window closed and
	// returns them with a digest of their rows. Called again with the same key it must return
	// the same snapshot.
	SnapshotApplications(ctx context.Context, req SnapshotRequest) (Snapshot, error)
	// ApplyCommand persists one accepted command or one transition of the workflow: it updates
	// the projections (applications, stage results, objections), appends the audit event and
	// queues notifications, in one transaction. The update that caused it answers its caller
	// only after this succeeds.
	ApplyCommand(ctx context.Context, rec CommandRecord) error
	// ProjectBlocked records in the store's selection row that the selection is blocked (or,
	// with a nil Blocked, that it is not any more), so that the API shows it. It is not a
	// record of the process: it takes no sequence number and no audit event.
	ProjectBlocked(ctx context.Context, p BlockedProjection) error
}

// Activity names, equal to the method names of Activities.
const (
	ActivityProjectWindow        = "ProjectWindow"
	ActivitySnapshotApplications = "SnapshotApplications"
	ActivityApplyCommand         = "ApplyCommand"
	ActivityProjectBlocked       = "ProjectBlocked"
)

// BlockedProjection is the blocked state of a selection as the store shows it.
type BlockedProjection struct {
	WorkflowID  string `json:"workflowId"`
	SelectionID string `json:"selectionId"`
	// Blocked is nil when the selection is no longer blocked.
	Blocked *Blocked `json:"blocked,omitempty"`
}

// WindowProjection is the announcement window as the store needs it to accept applications.
type WindowProjection struct {
	WorkflowID  string `json:"workflowId"`
	SelectionID string `json:"selectionId"`
	// Key is the idempotency key: "window-<n>" for the n-th projection.
	Key string `json:"key"`
	// Closes is selection time and exclusive (the end of the last working day). Opens is the
	// wall-clock instant the window opened, which the API compares the current time with; it
	// equals the selection time except for a scheduled selection on a compressed time scale.
	Opens  time.Time `json:"opens"`
	Closes time.Time `json:"closes"`
	// ClosesWall is the wall-clock instant of the close. It differs from Closes only when the
	// selection runs on a compressed time scale; the API compares the current time with it.
	ClosesWall time.Time `json:"closesWall"`
	// OpensWall is the wall-clock instant of the opening, so that views give the window in
	// both clocks (zero in projections made before it was sent).
	OpensWall time.Time `json:"opensWall,omitzero"`
	// Extension is 0 for the original window and n for the n-th extension.
	Extension int `json:"extension"`
}

// SnapshotRequest asks for the applications submitted in the announcement window.
type SnapshotRequest struct {
	WorkflowID  string `json:"workflowId"`
	SelectionID string `json:"selectionId"`
	// Key is the idempotency key: "snapshot-<n>" for the n-th close (the first close and
	// each extension).
	Key string `json:"key"`
	// ClosedAt is the close instant in selection time; ages are computed at this instant.
	ClosedAt time.Time `json:"closedAt"`
}

// Snapshot is the frozen list of submitted applications. It is recorded in the workflow
// history, so later changes to the rows in the store are detectable by recomputing Digest.
type Snapshot struct {
	Applications []SnapshotApplication `json:"applications"`
	// Digest is the store's hash over the application rows (for example SHA-256 of their
	// canonical encoding, in ID order); the workflow keeps it without interpreting it.
	Digest string `json:"digest"`
}

// SnapshotApplication is one submitted application with the facts the automatic eligibility
// check needs. It carries no names: the store keeps those.
type SnapshotApplication struct {
	ID string `json:"id"`
	// Candidate is the token subject of the candidate who owns the application.
	Candidate   string           `json:"candidate"`
	SubmittedAt time.Time        `json:"submittedAt"`
	Facts       EligibilityFacts `json:"facts"`
}

// EligibilityFacts are what the candidate declared and uploaded. A nil or unspecified field is
// unknown; the automatic check then leaves the point to the committee.
type EligibilityFacts struct {
	Education           EducationLevel `json:"education,omitempty"`
	ExperienceMonths    *int           `json:"experienceMonths,omitempty"`
	AdministratorMonths *int           `json:"administratorMonths,omitempty"`
	// AgeAtClose is the age in full years at the announcement close; 0 is unknown.
	AgeAtClose int `json:"ageAtClose,omitempty"`
	// Documents are the kinds of documents uploaded; nil is unknown, empty is none.
	Documents []string `json:"documents,omitempty"`
}

// Command kinds: the updates, and the transitions the workflow makes by itself.
const (
	CmdWithdraw         = "WithdrawApplication"
	CmdRecordResults    = "RecordResults"
	CmdDeclareConflict  = "DeclareConflict"
	CmdAdvance          = "AdvanceStage"
	CmdDecide           = "Decide"
	CmdAppoint          = "Appoint"
	CmdCancel           = "Cancel"
	CmdFileObjection    = "FileObjection"
	CmdAnswerObjection  = "AnswerObjection"
	CmdSupplyHolidays   = "SupplyHolidays"
	CmdResume           = "ResumeSelection"
	EvtOpened           = "AnnouncementOpened"
	EvtExtended         = "AnnouncementExtended"
	EvtClosed           = "AnnouncementClosed"
	EvtPostponed        = "SelectionPostponed"
	EvtStageOpened      = "StageOpened"
	EvtShortlistSettled = "ShortlistSettled"
	// EvtObjectionReminder reminds the committee that an objection's answer is due soon;
	// EvtObjectionOverdue tells the chair and the secretariat that it is overdue.
	EvtObjectionReminder = "ObjectionAnswerReminder"
	EvtObjectionOverdue  = "ObjectionAnswerOverdue"
	// EvtAppointmentReminder reminds the secretariat that the PPK's choice is due soon;
	// EvtAppointmentOverdue tells it that the choice is overdue.
	EvtAppointmentReminder = "AppointmentReminder"
	EvtAppointmentOverdue  = "AppointmentOverdue"
	// EvtObjectionWindowReminder reminds the candidates a published result eliminated, and
	// who have not objected, that the objection window closes soon.
	EvtObjectionWindowReminder = "ObjectionWindowReminder"
	// EvtAnnouncementReminder reminds the candidates who uploaded documents to the selection
	// and have not submitted an application that the announcement closes soon.
	EvtAnnouncementReminder = "AnnouncementCloseReminder"
)

// CommandRecord is one accepted command or workflow transition, with everything the store
// must change because of it. The store applies it once per (WorkflowID, Key).
type CommandRecord struct {
	WorkflowID  string `json:"workflowId"`
	SelectionID string `json:"selectionId"`
	// Key is the Update ID for commands (the API's request_id), or "event-<seq>" for
	// transitions the workflow makes on its own.
	Key string `json:"key"`
	// Seq numbers the records of a selection from 1 without gaps, across continue-as-new; the
	// audit chain uses it for order.
	Seq    int64     `json:"seq"`
	Kind   string    `json:"kind"`
	Actor  Actor     `json:"actor"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
	// AtWall is At on the wall clock; it differs from At only under a time scale. Views
	// give a stage's opening in both clocks from it (zero in records made before it was
	// sent).
	AtWall time.Time `json:"atWall,omitzero"`
	// Stage and Phase are where the selection stands after the command.
	Stage Stage `json:"stage"`
	Phase Phase `json:"phase"`
	// Args is the command's argument as received, typed by Kind (see CommandArgs), for the
	// store and the audit log, which digests its JSON.
	Args CommandArgs `json:"args,omitzero"`
	// Applications are the applications whose status changed.
	Applications []ApplicationChange `json:"applications,omitempty"`
	// Result is set when a stage result is published or re-published.
	Result *StageResult `json:"result,omitempty"`
	// Objection is set when an objection is filed or answered.
	Objection *Objection `json:"objection,omitempty"`
	// Window is set when the announcement window opens or is extended.
	Window *WindowProjection `json:"window,omitempty"`
	// SnapshotDigest is set when the announcement closes.
	SnapshotDigest string `json:"snapshotDigest,omitempty"`
	// Message describes the event for notifications and timelines.
	Message *Message `json:"message,omitempty"`
	// Checklists are the requirement checklists that changed: all of them when the
	// announcement closes, then those of the applications a screening verdict or an
	// objection's answer decided.
	Checklists []ApplicationChecklist `json:"checklists,omitempty"`
	// Recipients are staff the record's Message is sent to, in the outbox's addressing
	// (RecipientAccount, RecipientSecretariat): reminders and escalations.
	Recipients []string `json:"recipients,omitempty"`
	// Candidates are applications whose owners the record's Message is sent to (the store
	// knows each application's owner): reminders to candidates.
	Candidates []string `json:"candidates,omitempty"`
	// Deadline is set by a reminder or an escalation: the objection and its answer's due
	// time, for the store to show what is overdue.
	Deadline *DeadlineRecord `json:"deadline,omitempty"`
}

// DeadlineRecord is the deadline a reminder or escalation concerns.
type DeadlineRecord struct {
	Objection string    `json:"objection"`
	Due       time.Time `json:"due"`
	Overdue   bool      `json:"overdue,omitempty"`
}

// ApplicationChange is the new status of one application.
type ApplicationChange struct {
	ApplicationID string           `json:"applicationId"`
	State         ApplicationState `json:"state"`
	// Stage is where it happened: the stage that eliminated the application, for example.
	Stage  Stage  `json:"stage,omitempty"`
	Reason string `json:"reason,omitempty"`
	// ReasonMessage is the system's reason, as a code.
	ReasonMessage *Message `json:"reasonMessage,omitempty"`
	Rank          int      `json:"rank,omitempty"`
	// FinalScore is set when the committee decision opens and the weighted scores are known,
	// so the committee reads them before it decides.
	FinalScore Score `json:"finalScore,omitempty"`
	// Status is what the candidate is told, in both languages; commit fills it in from the
	// state after the change, the same text the applicationStatus query answers.
	Status *Message `json:"status,omitempty"`
}

// StageResult is a published stage result (one revision).
type StageResult struct {
	Stage             Stage         `json:"stage"`
	Revision          int           `json:"revision"`
	PublishedAt       time.Time     `json:"publishedAt"`
	ObjectionDeadline time.Time     `json:"objectionDeadline,omitzero"`
	RevisionReason    string        `json:"revisionReason,omitempty"`
	RevisionMessage   *Message      `json:"revisionMessage,omitempty"`
	ScoresPublished   bool          `json:"scoresPublished"`
	Entries           []ResultEntry `json:"entries"`
}

// ResultEntry is one line of a published result. Scores appear only when the selection
// publishes scores.
type ResultEntry struct {
	ApplicationID string           `json:"applicationId"`
	Outcome       Outcome          `json:"outcome"`
	Scores        []ComponentScore `json:"scores,omitempty"`
	FinalScore    Score            `json:"finalScore,omitempty"`
	Rank          int              `json:"rank,omitempty"`
	Reason        string           `json:"reason,omitempty"`
	ReasonMessage *Message         `json:"reasonMessage,omitempty"`
	// Category is the assessment center's category; competency test only. It is recorded
	// for the candidate and the committee, whether or not the selection publishes scores.
	Category CompetencyCategory `json:"category,omitempty"`
	// Unmet are the requirement items a screening failure rests on, in checklist order.
	Unmet []UnmetItem `json:"unmet,omitempty"`
}

// activityOptions are the options of runs recorded before ChangeIDBlocked, which retried a
// store write forever with a capped backoff (holding the selection's lock meanwhile). Newer
// runs use selection.storeOptions and selection.snapshotOptions, with bounded budgets.
func activityOptions(ctx workflow.Context, timeout time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: timeout,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
		},
	})
}
