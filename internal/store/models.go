package store

import (
	"encoding/json"
	"fmt"
	"time"
)

// The exported types below are what the store's callers read and write. The enumerations
// (stages, states, outcomes, roles) are strings holding the API's proto enum names, the same
// values the workflow uses, so that no layer needs a translation table and the store does not
// depend on the workflow package.

// Actor is who did something: the caller's actor ID (see ActorID) and role. Subject holds
// the token's subject itself in what was recorded before actor IDs.
type Actor struct {
	Subject string `json:"subject"`
	Role    string `json:"role"`
}

// Text is a message for people: a code with named parameters and an optional embedded
// message, rendered in the reader's language at the edges (internal/i18n). EN and ID hold
// the rendered texts of rows written before message codes.
type Text struct {
	Code   string            `json:"code,omitempty"`
	Params map[string]string `json:"params,omitempty"`
	Detail *Text             `json:"detail,omitempty"`
	EN     string            `json:"en,omitempty"`
	ID     string            `json:"id,omitempty"`
}

// encodeText is a message as stored in a *_message column: JSON, or "" for none.
func encodeText(t *Text) (string, error) {
	if t == nil {
		return "", nil
	}
	b, err := json.Marshal(t)
	if err != nil {
		return "", fmt.Errorf("encode message %s: %w", t.Code, err)
	}
	return string(b), nil
}

// decodeText reads a *_message column.
func decodeText(s string) (*Text, error) {
	if s == "" {
		return nil, nil
	}
	var t Text
	if err := json.Unmarshal([]byte(s), &t); err != nil {
		return nil, fmt.Errorf("decode message: %w", err)
	}
	return &t, nil
}

// CommitteeMember is one member of a selection's committee.
type CommitteeMember struct {
	MemberID    string `json:"memberId"`
	DisplayName string `json:"displayName"`
	Kind        string `json:"kind"`
	Role        string `json:"role"`
	PostLevel   string `json:"postLevel,omitempty"`
	Affiliation string `json:"affiliation,omitempty"`
}

// Conflict is a member's declared conflict of interest with one application.
type Conflict struct {
	MemberID      string    `json:"memberId"`
	ApplicationID string    `json:"applicationId"`
	Relationship  string    `json:"relationship,omitempty"`
	Reason        string    `json:"reason,omitempty"`
	DeclaredBy    string    `json:"declaredBy"`
	DeclareTime   time.Time `json:"declareTime"`
}

// Window is the announcement window as the workflow projected it. Opens and Closes are
// selection time; ClosesWall is the wall-clock close that intake compares with.
type Window struct {
	Opens      time.Time `json:"opens"`
	Closes     time.Time `json:"closes"`
	ClosesWall time.Time `json:"closesWall"`
	Extension  int       `json:"extension"`
	// OpensWall is Opens on the wall clock; zero when the workflow did not send it. It is
	// left out of the projection's fingerprint when zero, so that a retried projection
	// recorded before it existed is the same projection.
	OpensWall time.Time `json:"opensWall,omitzero"`
}

// NewSelection defines a selection. Config is the complete definition as the API received it
// (requirements, windows, weights...), kept as JSON: the workflow interprets it, the store
// only serves it back.
type NewSelection struct {
	ID            string
	RequestID     string
	WorkflowID    string
	PositionTitle string
	PositionUnit  string
	Agency        string
	TimeZone      string
	Config        json.RawMessage
	Committee     []CommitteeMember
	Actor         Actor
	Now           time.Time
	// WorkflowInput, when set, is recorded with the selection so that its workflow can be
	// started (again) from the store; see PendingStarts.
	WorkflowInput json.RawMessage
	// Scheduled creates the selection in StageScheduled: its announcement opens later.
	Scheduled bool
}

// Selection is a selection with its projected status.
type Selection struct {
	ID            string
	WorkflowID    string
	PositionTitle string
	PositionUnit  string
	Agency        string
	TimeZone      string
	Config        json.RawMessage
	Committee     []CommitteeMember
	Conflicts     []Conflict
	Stage         string
	Phase         string
	StageOpenTime time.Time
	// StageOpenWallTime is StageOpenTime on the wall clock; zero when not recorded.
	StageOpenWallTime          time.Time
	Window                     Window
	IntakeFrozen               bool
	SnapshotDigest             string
	AppointedApplication       string
	PPKDecreeRef               string
	OversightRecommendationRef string
	// AppointmentJustification is the PPK's published reason for choosing rank 2 or 3.
	AppointmentJustification string
	CancelReason             string
	// CancelMessage is the system's reason for ending without appointment, as a code.
	CancelMessage *Text
	// Blocked is set while the workflow cannot make its next step (see ProjectBlocked).
	Blocked   *Blocked
	AuditSeq  int64
	AuditHead string
	// Version grows with every change; the API derives the etag from it.
	Version    int64
	CreateTime time.Time
	UpdateTime time.Time
}

// Blocked is why a selection's workflow cannot make its next step: codes and parameters, which
// the API renders.
type Blocked struct {
	Reason      string
	Step        string
	Year        int
	Since       time.Time
	Attempts    int
	NextAttempt time.Time
}

// ApplicationCounts counts a selection's applications by state.
type ApplicationCounts struct {
	Total   int64
	ByState map[string]int64
}

// Candidate is the personal data of the person behind an application.
type Candidate struct {
	// Subject is the candidate's token subject; the application's Owner is their actor ID.
	Subject   string `json:"subject"`
	FullName  string `json:"fullName"`
	NIP       string `json:"nip"`
	Email     string `json:"email"`
	Phone     string `json:"phone,omitempty"`
	BirthDate string `json:"birthDate"` // YYYY-MM-DD
}

// Document is one uploaded document of an application as the application row keeps it:
// the document's ID and kind, and what the server found in the file when it was uploaded.
// The snapshot at the close digests these with the rest of the row.
type Document struct {
	ID        string `json:"id"`
	Kind      string `json:"kind"`
	FileName  string `json:"fileName"`
	MediaType string `json:"mediaType"`
	SizeBytes int64  `json:"sizeBytes"`
	SHA256    string `json:"sha256"`
}

// DocumentRef is a document an application names: an uploaded document's ID and the
// required document (kind) it satisfies.
type DocumentRef struct {
	Kind       string `json:"kind"`
	DocumentID string `json:"documentId"`
}

// Facts are what the automatic eligibility check needs, with the workflow's JSON names. A nil
// pointer is unknown, and so are nil Documents (empty Documents means none were uploaded).
// AgeAtClose is computed by the snapshot from the birth date.
type Facts struct {
	Education           string   `json:"education,omitempty"`
	ExperienceMonths    *int     `json:"experienceMonths,omitempty"`
	AdministratorMonths *int     `json:"administratorMonths,omitempty"`
	AgeAtClose          int      `json:"ageAtClose,omitempty"`
	Documents           []string `json:"documents"`
}

// SubmitInput is one application as the API received it.
type SubmitInput struct {
	SelectionID string
	// RequestID makes the submission idempotent: a retry returns the first result.
	RequestID string
	// ID is the application ID to use; empty lets the store choose one.
	ID string
	// Owner is the candidate's actor ID (ActorID of their token's issuer and subject): the
	// application's owner as the workflow, the audit log and ownership checks know them.
	Owner     string
	Candidate Candidate
	// Profile is the candidate's professional profile (education, posts...) as JSON.
	Profile json.RawMessage
	// Documents are the uploaded documents the application names, one per required
	// document of the selection; the store checks and attaches them.
	Documents []DocumentRef
	Statement string
	Facts     Facts
	// Now is the wall-clock time of the request, compared with the projected window.
	Now time.Time
	// ParticipantNumber renders the participant number of the seq-th application (from 1)
	// of a selection in timeZone (as the selection records it, such as TIME_ZONE_WIB), in
	// the agency's format; the store picks seq under the selection's lock. Nil numbers with
	// seq alone.
	ParticipantNumber func(timeZone string, seq int) (string, error)
}

// Application is one application with its status projection.
type Application struct {
	ID          string
	SelectionID string
	CandidateID string
	Owner       string
	RequestID   string
	// ParticipantNumber is given at submission, unique in the selection; empty for
	// applications submitted before numbers existed. ParticipantSeq orders them.
	ParticipantNumber string
	ParticipantSeq    int
	Candidate         Candidate
	Profile           json.RawMessage
	Documents         []Document
	Statement         string
	Facts             Facts
	State             string
	CurrentStage      string
	Rank              int
	FinalScore        int64
	EliminatedStage   string
	EliminationReason string
	// EliminationMessage is the system's reason, as a code (EliminationReason holds people's words).
	EliminationMessage *Text
	Status             Text
	Results            []ApplicationResult
	// Checklist is the requirement checklist of administrative screening; empty for
	// selections that screen whole applications and before the announcement closes.
	Checklist  []ChecklistItem
	SubmitTime time.Time
	UpdateTime time.Time
	// Intake is the selection's intake facts as GetApplication read them with the
	// application, in the same statement; nil from every other read.
	Intake *SelectionIntake
}

// ComponentScore is one score, in hundredths of a point.
type ComponentScore struct {
	Component string `json:"component"`
	Score     int64  `json:"score"`
}

// ResultEntry is one line of a published stage result.
type ResultEntry struct {
	ApplicationID string           `json:"applicationId"`
	Outcome       string           `json:"outcome"`
	Scores        []ComponentScore `json:"scores,omitempty"`
	FinalScore    int64            `json:"finalScore,omitempty"`
	Rank          int              `json:"rank,omitempty"`
	Reason        string           `json:"reason,omitempty"`
	ReasonMessage *Text            `json:"reasonMessage,omitempty"`
	// CompetencyCategory is the assessment center's category; competency test only. Its JSON
	// name is the workflow's (workflows.ResultEntry), so the stored entries are the published
	// ones as the history records them, which verification compares.
	CompetencyCategory string `json:"category,omitempty"`
	// Unmet are the requirement items a screening failure rests on (the workflow's
	// ResultEntry.Unmet, with its JSON names).
	Unmet []UnmetItem `json:"unmet,omitempty"`
}

// UnmetItem is an unmet requirement item as a published result lists it.
type UnmetItem struct {
	Item    string `json:"item"`
	Finding *Text  `json:"finding,omitempty"`
	Note    string `json:"note,omitempty"`
}

// ChecklistItem is one requirement item of an application in administrative screening, with
// the workflow's JSON names (workflows.ChecklistItem): the store keeps the checklist as the
// history records it, which verification compares.
type ChecklistItem struct {
	Item string `json:"item"`
	// Proposed is the automatic proposal at the close, Finding why.
	Proposed string `json:"proposed"`
	Finding  *Text  `json:"finding,omitempty"`
	Status   string `json:"status"`
	Note     string `json:"note,omitempty"`
	// By and At: who decided the item and when (empty while only proposed).
	By        string    `json:"by,omitempty"`
	At        time.Time `json:"at,omitzero"`
	Objection string    `json:"objection,omitempty"`
}

// ItemAnswer is the committee's answer to one contested item of an objection.
type ItemAnswer struct {
	Item     string `json:"item"`
	Accepted bool   `json:"accepted"`
	Answer   string `json:"answer"`
}

// Checklist is the checklist of one application as a command records it: the workflow's JSON
// of its items.
type Checklist struct {
	ApplicationID string
	Items         json.RawMessage
}

// StageResult is one published revision of a stage's result.
type StageResult struct {
	SelectionID       string
	Stage             string
	Revision          int
	PublishedAt       time.Time
	ObjectionDeadline time.Time
	RevisionReason    string
	RevisionMessage   *Text
	ScoresPublished   bool
	Entries           []ResultEntry
}

// ApplicationResult is an application's line in the latest revision of one stage's result.
type ApplicationResult struct {
	Stage         string
	Revision      int
	Outcome       string
	Scores        []ComponentScore
	FinalScore    int64
	Rank          int
	Reason        string
	ReasonMessage *Text
	PublishTime   time.Time
	// CompetencyCategory is the assessment center's category; competency test only.
	CompetencyCategory string
}

// Objection is an objection (sanggah) against a stage result.
type Objection struct {
	SelectionID   string
	ID            string
	ApplicationID string
	Stage         string
	Candidate     string
	Reason        string
	State         string
	Answer        string
	AnsweredBy    string
	FileTime      time.Time
	AnswerTime    time.Time
	// Correction is the corrected result of an accepted objection, as JSON.
	Correction json.RawMessage
	// Items are the contested requirement items, Document the clarifying document, and
	// ItemAnswers the committee's answer to each item.
	Items       []string
	Document    string
	ItemAnswers []ItemAnswer
	// AnswerDue is when the answer is due, once the workflow has reminded the committee of
	// it; Overdue is set when it passed unanswered.
	AnswerDue time.Time
	Overdue   bool
}

// Deadline is what a reminder or escalation sets on an objection.
type Deadline struct {
	ObjectionID string
	Due         time.Time
	Overdue     bool
}

// ApplicationChange is the new status of one application.
type ApplicationChange struct {
	ApplicationID string
	State         string
	// Stage is where the change happened: the stage that eliminated the application.
	Stage         string
	Reason        string
	ReasonMessage *Text
	Rank          int
	// FinalScore is set when the committee decision computes it.
	FinalScore int64
	Status     *Text
	// Notice, when set, is what the candidate is told of the change instead of the new
	// status: a corrected result names the correction and the new objection deadline.
	Notice *Text
}

// Appointment is the appointing official's choice.
type Appointment struct {
	ApplicationID              string
	PPKDecreeRef               string
	OversightRecommendationRef string
	// Justification is the PPK's reason for choosing rank 2 or 3, published.
	Justification string
}

// Command is one accepted command or workflow transition, as the store applies it: once per
// (WorkflowID, Key), in one transaction.
type Command struct {
	WorkflowID  string
	SelectionID string
	Key         string
	// Seq is the workflow's own numbering of its records.
	Seq    int64
	Kind   string
	Actor  Actor
	Reason string
	// At is the workflow time of the command.
	At time.Time
	// AtWall is At on the wall clock (zero when the workflow did not send it).
	AtWall time.Time
	// Stage and Phase are where the selection stands after the command.
	Stage string
	Phase string
	// Target names what the command acts on, for the audit log.
	Target string
	// Payload is the command's arguments as JSON; the audit log keeps them with their digest.
	Payload json.RawMessage
	// ReceivedArgs are the arguments as the caller sent them, when the payload adds to them
	// (a correction's record names the results it replaced); the ledger keeps their digest,
	// which is what a retry of the same request is compared with. Empty: the payload.
	ReceivedArgs   json.RawMessage
	Applications   []ApplicationChange
	Result         *StageResult
	Objection      *Objection
	Window         *Window
	SnapshotDigest string
	Conflicts      []Conflict
	Appointment    *Appointment
	CancelReason   string
	CancelMessage  *Text
	// Checklists are the requirement checklists the command changed.
	Checklists []Checklist
	// Message describes the event; it becomes the text of the notifications.
	Message *Text
	// Notices are notifications for named recipients beside those derived from the changes
	// above (see Notice for the recipient forms).
	Notices []Notice
	// Answer is what the command's caller is answered (JSON). The ledger keeps it with the
	// digest of Payload, so that a retried request gets the same answer in every run of the
	// workflow (see CommandAnswer).
	Answer json.RawMessage
	// Recipients are staff the Message is sent to (reminders, escalations), in the outbox's
	// addressing of accounts and roles ("account:<subject>", "role:admin").
	Recipients []string
	// Deadline is set by a reminder or an escalation of an objection's answer.
	Deadline *Deadline
}

// WindowInput projects the announcement window; idempotent by (WorkflowID, Key).
type WindowInput struct {
	WorkflowID  string
	SelectionID string
	Key         string
	Window      Window
}

// SnapshotInput freezes intake and takes a snapshot; idempotent by (WorkflowID, Key).
type SnapshotInput struct {
	WorkflowID  string
	SelectionID string
	Key         string
	// ClosedAt is the close in selection time; ages are computed at it.
	ClosedAt time.Time
}

// Snapshot is the frozen list of submitted applications and the digest of their rows.
type Snapshot struct {
	SelectionID  string
	ClosedAt     time.Time
	Applications []SnapshotApplication
	Digest       string
}

// SnapshotApplication is one application in a snapshot.
type SnapshotApplication struct {
	ID          string
	Candidate   string
	SubmittedAt time.Time
	Facts       Facts
}

// Notification is one queued message in the outbox.
type Notification struct {
	ID          string
	SelectionID string
	// Recipient is the token subject of the candidate (or "*", the selection's public feed);
	// it identifies the person, it is not an address.
	Recipient     string
	ApplicationID string
	// Email is the address the candidate gave in the application, fixed when the
	// notification was queued; empty for the public feed and for rows queued before it was
	// recorded.
	Email string
	// Channel is the one channel this notification is delivered on (ChannelEmail,
	// ChannelInApp, ChannelWebhook); Address is its address there (a webhook's phone number).
	Channel    string
	Address    string
	Kind       string
	Text       Text
	CreateTime time.Time
	// State is NotificationPending, NotificationSent or NotificationDead.
	State    string
	Attempts int
	// LastError is the last delivery error, for operators (never shown to candidates).
	LastError       string
	LastAttemptTime time.Time
	// NextAttemptTime is when a pending notification is due again; zero means at once.
	NextAttemptTime time.Time
	SendTime        time.Time
	DeadTime        time.Time
}

// AuditEvent is one link of a selection's audit chain.
type AuditEvent struct {
	SelectionID   string
	Seq           int64
	WorkflowID    string
	UpdateID      string
	CommandSeq    int64
	ActorSubject  string
	Role          string
	Action        string
	Target        string
	Reason        string
	WorkflowTime  time.Time
	Payload       json.RawMessage
	PayloadSHA256 string
	PrevHash      string
	Hash          string
	RecordTime    time.Time
}

// Rows as gorm maps them. They stay unexported so that no caller depends on column layout.

type selectionRow struct {
	ID                         string `gorm:"primaryKey"`
	WorkflowID                 string
	CreateRequestID            string
	DefinitionSHA256           string `gorm:"column:definition_sha256"`
	PositionTitle              string
	PositionUnit               string
	Agency                     string
	TimeZone                   string
	Config                     string
	Stage                      string
	Phase                      string
	StageOpenedAt              *time.Time
	StageOpenedWall            *time.Time
	WindowOpens                *time.Time
	WindowOpensWall            *time.Time
	WindowCloses               *time.Time
	WindowClosesWall           *time.Time
	WindowExtension            int
	IntakeFrozen               bool
	SnapshotDigest             string
	AppointedApplication       string
	PPKDecreeRef               string `gorm:"column:ppk_decree_ref"`
	OversightRecommendationRef string
	AppointmentJustification   string
	CancelReason               string
	CancelMessage              string
	BlockedReason              string
	BlockedStep                string
	BlockedYear                int
	BlockedSince               *time.Time
	BlockedAttempts            int
	BlockedNextAttempt         *time.Time
	AuditSeq                   int64
	AuditHead                  string
	Version                    int64
	// ActorIDs: the selection records people by actor ID (see ActorID); false for
	// selections created before actor IDs.
	ActorIDs  bool      `gorm:"column:actor_ids"`
	CreatedAt time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt time.Time `gorm:"autoUpdateTime:false"`
}

func (selectionRow) TableName() string { return "selections" }

type committeeRow struct {
	SelectionID string `gorm:"primaryKey"`
	MemberID    string `gorm:"primaryKey"`
	Ordinal     int
	DisplayName string
	Kind        string
	Role        string
	PostLevel   string
	Affiliation string
}

func (committeeRow) TableName() string { return "committee_members" }

type conflictRow struct {
	SelectionID   string `gorm:"primaryKey"`
	MemberID      string `gorm:"primaryKey"`
	ApplicationID string `gorm:"primaryKey"`
	Relationship  string
	Reason        string
	DeclaredBy    string
	DeclaredAt    time.Time
}

func (conflictRow) TableName() string { return "conflicts" }

type candidateRow struct {
	ID          string `gorm:"primaryKey"`
	SelectionID string
	Subject     string
	FullName    string
	NIP         string `gorm:"column:nip"`
	Email       string
	Phone       string
	BirthDate   string
	CreatedAt   time.Time `gorm:"autoCreateTime:false"`
}

func (candidateRow) TableName() string { return "candidates" }

type applicationRow struct {
	ID                 string `gorm:"primaryKey"`
	SelectionID        string
	CandidateID        string
	Owner              string
	RequestID          string
	RequestSHA256      string `gorm:"column:request_sha256"`
	Profile            string
	Documents          string
	Statement          string
	Facts              string
	State              string
	CurrentStage       string
	Rank               int
	FinalScore         int64
	EliminatedStage    string
	EliminationReason  string
	StatusEN           string `gorm:"column:status_en"`
	StatusID           string `gorm:"column:status_id"`
	StatusMessage      string
	EliminationMessage string
	Checklist          string
	ParticipantSeq     int
	ParticipantNumber  string
	SubmittedAt        time.Time
	UpdatedAt          time.Time `gorm:"autoUpdateTime:false"`
}

func (applicationRow) TableName() string { return "applications" }

type stageResultRow struct {
	SelectionID       string `gorm:"primaryKey"`
	Stage             string `gorm:"primaryKey"`
	Revision          int    `gorm:"primaryKey;autoIncrement:false"`
	PublishedAt       time.Time
	ObjectionDeadline *time.Time
	RevisionReason    string
	RevisionMessage   string
	ScoresPublished   bool
	Entries           string
}

func (stageResultRow) TableName() string { return "stage_results" }

type applicationResultRow struct {
	SelectionID   string `gorm:"primaryKey"`
	ApplicationID string `gorm:"primaryKey"`
	Stage         string `gorm:"primaryKey"`
	Revision      int
	Outcome       string
	Scores        string
	FinalScore    int64
	Rank          int
	Reason        string
	ReasonMessage string
	PublishedAt   time.Time
	// CompetencyCategory is the assessment center's category; competency test only.
	CompetencyCategory string
}

func (applicationResultRow) TableName() string { return "application_results" }

type objectionRow struct {
	SelectionID   string `gorm:"primaryKey"`
	ID            string `gorm:"primaryKey"`
	ApplicationID string
	Stage         string
	Candidate     string
	Reason        string
	State         string
	Answer        string
	AnsweredBy    string
	FiledAt       time.Time
	AnsweredAt    *time.Time
	Correction    string
	Items         string
	Document      string
	ItemAnswers   string
	AnswerDue     *time.Time
	Overdue       bool
}

func (objectionRow) TableName() string { return "objections" }

type auditRow struct {
	SelectionID   string `gorm:"primaryKey"`
	Seq           int64  `gorm:"primaryKey;autoIncrement:false"`
	WorkflowID    string
	UpdateID      string
	CommandSeq    int64
	ActorSubject  string
	Role          string
	Action        string
	Target        string
	Reason        string
	WorkflowTime  time.Time
	Payload       string
	PayloadSHA256 string `gorm:"column:payload_sha256"`
	PrevHash      string
	Hash          string
	RecordedAt    time.Time
}

func (auditRow) TableName() string { return "audit_events" }

type notificationRow struct {
	ID            string `gorm:"primaryKey"`
	SelectionID   string
	Recipient     string
	ApplicationID string
	Email         string
	Kind          string
	Code          string
	TextEN        string `gorm:"column:text_en"`
	TextID        string `gorm:"column:text_id"`
	Message       string
	CreatedAt     time.Time `gorm:"autoCreateTime:false"`
	Attempts      int
	LastError     string
	SentAt        *time.Time
	// Delivery bookkeeping (migration 00013). A row queued without a state is pending.
	State         string `gorm:"default:NOTIFICATION_STATE_PENDING"`
	NextAttemptAt *time.Time
	LastAttemptAt *time.Time
	DeadAt        *time.Time
	LeaseOwner    string
	LeaseUntil    *time.Time
	// Channel and Address (migration 00025): the one channel this row is delivered on, and
	// its address there when it is not the e-mail (a webhook's phone number).
	Channel string `gorm:"default:EMAIL"`
	Address string
}

func (notificationRow) TableName() string { return "notifications" }

type processedRow struct {
	WorkflowID    string `gorm:"primaryKey"`
	CommandKey    string `gorm:"primaryKey"`
	SelectionID   string
	Kind          string
	CommandSeq    int64
	PayloadSHA256 string `gorm:"column:payload_sha256"`
	AuditSeq      int64
	ProcessedAt   time.Time
	// ArgsSHA256 and Answer are kept for the caller's retries (see CommandAnswer); empty in
	// rows written before they existed.
	ArgsSHA256 string `gorm:"column:args_sha256"`
	Answer     string
}

func (processedRow) TableName() string { return "processed_commands" }

type snapshotRow struct {
	SelectionID  string `gorm:"primaryKey"`
	SnapshotKey  string `gorm:"primaryKey"`
	WorkflowID   string
	ClosedAt     time.Time
	Digest       string
	Applications int
	Body         string
	CreatedAt    time.Time `gorm:"autoCreateTime:false"`
}

func (snapshotRow) TableName() string { return "snapshots" }
