package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	seleksiv1 "github.com/bkpsdm/seleksi/api/seleksi/v1"
	"github.com/bkpsdm/seleksi/internal/i18n"
	"github.com/bkpsdm/seleksi/internal/store"
	"github.com/bkpsdm/seleksi/workflows"
)

// Views turn the store's read models into API resources. The store keeps the selection's
// definition as the API received it (protojson of the Selection's input fields); the
// projected status is laid over it.

func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// selectionView shows a selection; who gives the subjects of the actors its conflicts name.
func selectionView(cat *i18n.Catalog, s store.Selection, counts *store.ApplicationCounts, who subjects) (*seleksiv1.Selection, error) {
	out := &seleksiv1.Selection{}
	if len(s.Config) > 0 {
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(s.Config, out); err != nil {
			return nil, fmt.Errorf("selection %s: stored definition: %w", s.ID, err)
		}
	}
	out.Name = selectionName(s.ID)
	out.WorkflowId = s.WorkflowID
	out.Stage = protoStage(s.Stage)
	// Every instant in both clocks: selection time (the legal calendar) and wall-clock time.
	// They are the same unless the selection runs on a compressed time scale.
	open, openWall := s.StageOpenTime, s.StageOpenWallTime
	var closes, closesWall time.Time
	if s.Stage == store.StageAnnouncement {
		open, openWall = s.Window.Opens, s.Window.OpensWall
		closes, closesWall = s.Window.Closes, s.Window.ClosesWall
	}
	if out.GetTimeScale() <= 1 {
		openWall, closesWall = open, closes
	}
	out.StageOpenTime, out.StageOpenWallTime = ts(open), ts(openWall)
	out.StageCloseTime, out.StageCloseWallTime = ts(closes), ts(closesWall)
	out.ExtensionsUsed = uint32(s.Window.Extension)
	out.Conflicts = nil
	for _, c := range s.Conflicts {
		out.Conflicts = append(out.Conflicts, conflictView(s.ID, c, who))
	}
	if s.AppointedApplication != "" {
		out.AppointedApplication = applicationName(s.ID, s.AppointedApplication)
	}
	out.PpkDecreeRef = s.PPKDecreeRef
	out.OversightRecommendationRef = s.OversightRecommendationRef
	out.AppointmentJustification = s.AppointmentJustification
	out.CancelReason = s.CancelReason
	if s.CancelReason == "" && s.CancelMessage != nil {
		// The system's reason (a postponement): the field is a plain string, so Indonesian.
		out.CancelReason = cat.Render(storeMsg(*s.CancelMessage), i18n.ID)
	}
	out.CreateTime = ts(s.CreateTime)
	out.UpdateTime = ts(s.UpdateTime)
	out.Etag = strconv.FormatInt(s.Version, 10)
	if counts != nil {
		out.ApplicationCounts = &seleksiv1.ApplicationCounts{
			Total:      uint32(counts.Total),
			Submitted:  uint32(counts.ByState[store.StateSubmitted]),
			InProgress: uint32(counts.ByState["APPLICATION_STATE_IN_PROGRESS"]),
			Eliminated: uint32(counts.ByState["APPLICATION_STATE_ELIMINATED"]),
			Withdrawn:  uint32(counts.ByState["APPLICATION_STATE_WITHDRAWN"]),
			Decided: uint32(counts.ByState["APPLICATION_STATE_SHORTLISTED"] + counts.ByState["APPLICATION_STATE_APPOINTED"] +
				counts.ByState["APPLICATION_STATE_NOT_SELECTED"]),
		}
	}
	return out, nil
}

// conflictActors are the actors a selection's conflicts name.
func conflictActors(s store.Selection) []string {
	var ids []string
	for _, c := range s.Conflicts {
		ids = append(ids, c.MemberID, c.DeclaredBy)
	}
	return ids
}

func conflictView(selectionID string, c store.Conflict, who subjects) *seleksiv1.Conflict {
	return &seleksiv1.Conflict{
		MemberId:     who.of(c.MemberID),
		Application:  applicationName(selectionID, c.ApplicationID),
		Relationship: c.Relationship,
		Reason:       c.Reason,
		DeclaredBy:   who.of(c.DeclaredBy),
		DeclareTime:  ts(c.DeclareTime),
	}
}

func scoresView(scores []store.ComponentScore) []*seleksiv1.ComponentScore {
	out := make([]*seleksiv1.ComponentScore, 0, len(scores))
	for _, s := range scores {
		out = append(out, &seleksiv1.ComponentScore{Component: protoComponent(s.Component), Score: float64(s.Score) / 100})
	}
	return out
}

func stageResultView(cat *i18n.Catalog, r store.StageResult, names map[string]string) *seleksiv1.StageResult {
	out := &seleksiv1.StageResult{
		Name:              selectionName(r.SelectionID) + "/results/" + stageSlug(r.Stage),
		Stage:             protoStage(r.Stage),
		Revision:          uint32(r.Revision),
		PublishTime:       ts(r.PublishedAt),
		ObjectionDeadline: ts(r.ObjectionDeadline),
		RevisionReason:    reasonText(cat, r.RevisionReason, r.RevisionMessage),
		ScoresPublished:   r.ScoresPublished,
	}
	for _, e := range r.Entries {
		entry := &seleksiv1.StageResultEntry{
			Application:   applicationName(r.SelectionID, e.ApplicationID),
			CandidateName: names[e.ApplicationID],
			Outcome:       protoOutcome(e.Outcome),
			Rank:          uint32(e.Rank),
			Reason:        reasonText(cat, e.Reason, e.ReasonMessage),
		}
		entry.UnmetItems = unmetView(cat, e.Unmet)
		// Scores are published only where the selection says so; the store keeps them either
		// way for the committee and auditors.
		if r.ScoresPublished {
			entry.Scores = scoresView(e.Scores)
			entry.FinalScore = float64(e.FinalScore) / 100
		}
		out.Entries = append(out.Entries, entry)
	}
	// The documented order: the ranked (the committee's shortlist) first, by rank; then
	// everyone else by candidate name, and by application where names are equal. People
	// look for their name in a published list; the application ID says nothing to them.
	slices.SortStableFunc(out.Entries, func(a, b *seleksiv1.StageResultEntry) int {
		if (a.GetRank() == 0) != (b.GetRank() == 0) {
			if a.GetRank() != 0 {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.GetRank(), b.GetRank()), strings.Compare(a.GetCandidateName(), b.GetCandidateName()),
			strings.Compare(a.GetApplication(), b.GetApplication()))
	})
	return out
}

// publishedResult is a published stage result as everyone reads it, with the candidates'
// names: GetStageResult and the answer of the command that published it show the same.
func publishedResult(ctx context.Context, st Store, cat *i18n.Catalog, selectionID, stage string, revision int) (*seleksiv1.StageResult, error) {
	r, err := st.GetStageResult(ctx, selectionID, stage, revision)
	if err != nil {
		return nil, err
	}
	names, err := st.CandidateNames(ctx, selectionID)
	if err != nil {
		return nil, err
	}
	return stageResultView(cat, r, names), nil
}

// resultOfCommand is the result a command published, for its answer. The command has been
// applied by now, so a failure to read the result is logged, not returned: the caller would
// otherwise send again a command that succeeded.
func resultOfCommand(ctx context.Context, st Store, cat *i18n.Catalog, logger *slog.Logger, selectionID, stage string) *seleksiv1.StageResult {
	v, err := publishedResult(ctx, st, cat, selectionID, stage, 0)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			logger.ErrorContext(ctx, "read the published result", "selection", selectionID, "stage", stage, "error", err)
		}
		return nil
	}
	return v
}

// applicationView shows an application. Personal data (NIP, e-mail, phone, birth date) is
// shown only when withPersonal is set: to the candidate, the committee, the secretariat and
// auditors, never in public lists.
func applicationView(cat *i18n.Catalog, a store.Application, withPersonal bool) (*seleksiv1.Application, error) {
	out := &seleksiv1.Application{
		Name:              applicationName(a.SelectionID, a.ID),
		ParticipantNumber: a.ParticipantNumber,
		Statement:         a.Statement,
		State:             protoState(a.State),
		CurrentStage:      protoStage(a.CurrentStage),
		FinalScore:        float64(a.FinalScore) / 100,
		Rank:              uint32(a.Rank),
		// The owner as the candidate's tokens name them; the store records their actor ID.
		Owner:      a.Candidate.Subject,
		SubmitTime: ts(a.SubmitTime),
		UpdateTime: ts(a.UpdateTime),
		StatusText: localized(cat, storeMsg(a.Status)),
	}
	if a.Status.ID == "" && a.Status.Code == "" && a.State == store.StateSubmitted {
		// Until the workflow first speaks about an application (at the announcement's close),
		// it is simply received; the screening starts only after the close.
		out.StatusText = localized(cat, i18n.Msg{Code: workflows.CodeStatusReceived})
	}
	profile := &seleksiv1.CandidateProfile{}
	if len(a.Profile) > 0 {
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(a.Profile, profile); err != nil {
			return nil, fmt.Errorf("application %s: stored profile: %w", a.ID, err)
		}
	}
	profile.FullName = a.Candidate.FullName
	if withPersonal {
		profile.Nip, profile.Email, profile.Phone, profile.BirthDate = a.Candidate.NIP, a.Candidate.Email, a.Candidate.Phone, a.Candidate.BirthDate
	} else {
		profile.Nip, profile.Email, profile.Phone, profile.BirthDate = "", "", "", ""
		// A token subject is often the NIP.
		out.Owner = ""
	}
	out.Candidate = profile
	for _, d := range a.Documents {
		out.Documents = append(out.Documents, &seleksiv1.DocumentRef{Kind: d.Kind, Document: "documents/" + d.ID,
			FileName: d.FileName, MediaType: d.MediaType, SizeBytes: d.SizeBytes, Sha256: d.SHA256})
	}
	if a.EliminatedStage != "" {
		out.EliminatedStage = protoStage(a.EliminatedStage)
		out.EliminationReason = &seleksiv1.LocalizedText{Id: a.EliminationReason, En: a.EliminationReason}
		if a.EliminationReason == "" && a.EliminationMessage != nil {
			out.EliminationReason = localized(cat, storeMsg(*a.EliminationMessage))
		}
	}
	out.Checklist = checklistView(cat, a.Checklist)
	for _, r := range a.Results {
		var unmet []*seleksiv1.UnmetRequirement
		if r.Stage == string(workflows.StageAdministrativeScreening) && r.Outcome == string(workflows.OutcomeFail) {
			unmet = unmetView(cat, checklistUnmet(a.Checklist))
		}
		out.StageResults = append(out.StageResults, &seleksiv1.ApplicationStageResult{
			UnmetItems: unmet,
			Stage:      protoStage(r.Stage),
			Outcome:    protoOutcome(r.Outcome),
			Scores:     scoresView(r.Scores),
			Reason:     reasonText(cat, r.Reason, r.ReasonMessage),
			Published:  true,
			// The enum's names are the store's values; an unknown one shows as unspecified.
			CompetencyCategory: seleksiv1.CompetencyCategory(seleksiv1.CompetencyCategory_value[r.CompetencyCategory]),
			Revision:           uint32(r.Revision),
			RecordTime:         ts(r.PublishTime),
		})
	}
	return out, nil
}

// objectionView shows an objection; who gives the subject of the member who answered it.
func objectionView(o store.Objection, who subjects) *seleksiv1.Objection {
	revision := 1
	if _, r, _, ok := workflows.ParseObjectionID(o.ID); ok {
		revision = r
	}
	var answers []*seleksiv1.ItemAnswer
	for _, a := range o.ItemAnswers {
		answers = append(answers, &seleksiv1.ItemAnswer{Item: a.Item, Accepted: a.Accepted, Answer: a.Answer})
	}
	return &seleksiv1.Objection{
		Items:         o.Items,
		Document:      o.Document,
		ItemAnswers:   answers,
		Name:          objectionName(o.SelectionID, o.ApplicationID, o.Stage, revision),
		Stage:         protoStage(o.Stage),
		Reason:        o.Reason,
		State:         seleksiv1.ObjectionState(seleksiv1.ObjectionState_value[o.State]),
		Answer:        o.Answer,
		AnsweredBy:    who.of(o.AnsweredBy),
		CreateTime:    ts(o.FileTime),
		AnswerTime:    ts(o.AnswerTime),
		Revision:      uint32(revision),
		AnswerDueTime: ts(o.AnswerDue),
		Overdue:       o.Overdue,
	}
}

// itemTitle names a requirement item in both languages: the fixed items by their names,
// documents and the agency's items by their IDs.
func itemTitle(cat *i18n.Catalog, item string) *seleksiv1.LocalizedText {
	return localized(cat, i18n.Msg{Code: codeItemName, Params: map[string]string{"items": item}})
}

// codeItemName renders one item's name (the catalog's items function).
const codeItemName = "item.name"

func optionalText(cat *i18n.Catalog, t *store.Text) *seleksiv1.LocalizedText {
	if t == nil {
		return nil
	}
	return localized(cat, storeMsg(*t))
}

// checklistView shows an application's requirement checklist; VerifiedBy holds the recorded
// actor until the caller resolves it (see ApplicationServer.view).
func checklistView(cat *i18n.Catalog, items []store.ChecklistItem) []*seleksiv1.ChecklistItem {
	out := make([]*seleksiv1.ChecklistItem, 0, len(items))
	for _, it := range items {
		out = append(out, &seleksiv1.ChecklistItem{
			Item:           it.Item,
			Title:          itemTitle(cat, it.Item),
			Status:         seleksiv1.RequirementStatus(seleksiv1.RequirementStatus_value[it.Status]),
			ProposedStatus: seleksiv1.RequirementStatus(seleksiv1.RequirementStatus_value[it.Proposed]),
			Finding:        optionalText(cat, it.Finding),
			Note:           it.Note,
			VerifiedBy:     it.By,
			VerifyTime:     ts(it.At),
			Objection:      it.Objection,
		})
	}
	return out
}

// checklistUnmet lists the unmet items of a checklist as a published result does.
func checklistUnmet(items []store.ChecklistItem) []store.UnmetItem {
	var out []store.UnmetItem
	for _, it := range items {
		if it.Status == string(workflows.ItemUnmet) {
			out = append(out, store.UnmetItem{Item: it.Item, Finding: it.Finding, Note: it.Note})
		}
	}
	return out
}

func unmetView(cat *i18n.Catalog, items []store.UnmetItem) []*seleksiv1.UnmetRequirement {
	var out []*seleksiv1.UnmetRequirement
	for _, u := range items {
		out = append(out, &seleksiv1.UnmetRequirement{Item: u.Item, Title: itemTitle(cat, u.Item),
			Finding: optionalText(cat, u.Finding), Note: u.Note})
	}
	return out
}
