package workflows

// Message codes the workflow emits, each rendered at the edges from the catalog (see
// Message). A code names one sentence; its parameters are listed in Codes.
const (
	// Findings of the automatic eligibility check.
	CodeEligEducationUnknown      = "eligibility.education_unknown"
	CodeEligEducationUnrecognised = "eligibility.education_unrecognised"
	CodeEligEducation             = "eligibility.education"
	CodeEligExperienceUnknown     = "eligibility.experience_unknown"
	CodeEligExperience            = "eligibility.experience"
	CodeEligAdministratorUnknown  = "eligibility.administrator_unknown"
	CodeEligAdministrator         = "eligibility.administrator"
	CodeEligAgeUnknown            = "eligibility.age_unknown"
	CodeEligAge                   = "eligibility.age"
	CodeEligDocumentsUnknown      = "eligibility.documents_unknown"
	CodeEligDocuments             = "eligibility.documents"

	// The system's reasons for an outcome.
	CodeReasonCompetencyDoesNotMeet = "reason.competency_does_not_meet"
	CodeReasonCompetencyStillMeets  = "reason.competency_still_meets_not_accepted"
	CodeReasonCompetencyBelowMark   = "reason.competency_below_mark"
	CodeReasonInterviewBelowMark    = "reason.interview_below_mark"
	CodeReasonNotShortlisted        = "reason.not_shortlisted"
	CodeReasonPostponed             = "reason.postponed"
	CodeReasonNoQualified           = "reason.no_qualified_candidate"
	CodeReasonObjectionAccepted     = "reason.objection_accepted"
	CodeReasonAbsent                = "reason.absent"

	// A candidate's status (statusOf).
	CodeStatusReceived     = "status.received"
	CodeStatusScreening    = "status.being_screened"
	CodeStatusInProgress   = "status.in_progress"
	CodeStatusEliminated   = "status.eliminated"
	CodeStatusWithdrawn    = "status.withdrawn"
	CodeStatusShortlisted  = "status.shortlisted"
	CodeStatusAppointed    = "status.appointed"
	CodeStatusNotAppointed = "status.not_appointed"
	CodeStatusNotSelected  = "status.not_selected"
	CodeStatusCancelled    = "status.cancelled"

	// Events, for notifications and the timeline.
	CodeEventOpened      = "event.announcement_opened"
	CodeEventExtended    = "event.announcement_extended"
	CodeEventClosed      = "event.announcement_closed"
	CodeEventPublished   = "event.result_published"
	CodeEventStageOpened = "event.stage_opened"
	CodeEventCancelled   = "event.cancelled"
	CodeEventAppointed   = "event.appointed"
	// Reminders and escalations of deadlines (see ChangeIDDeadlineTimers).
	CodeEventObjectionReminder   = "event.objection_answer_reminder"
	CodeEventObjectionOverdue    = "event.objection_answer_overdue"
	CodeEventAppointmentReminder = "event.appointment_reminder"
	CodeEventAppointmentOverdue  = "event.appointment_overdue"
	CodeEventWindowReminder      = "event.objection_window_reminder"
	CodeEventAnnouncementClosing = "event.announcement_closing_reminder"
	CodeEventShortlistSettled    = "event.shortlist_settled"
	CodeEventShortlistFinal      = "event.shortlist_final"
	CodeEventScheduled           = "event.announcement_scheduled"
	CodeEventCorrected           = "event.result_corrected"

	// Rejections that embed another message.
	CodeRejectFailsAutomaticCheck = "reject.invalid_argument.fails_automatic_check"
	CodeRejectBelowPassMarks      = "reject.invalid_argument.below_pass_marks"

	// Rejections shared by many commands. The second part of a rejection's code names its
	// rejection type (see rejectType).
	CodeRejectSelectionEnded   = "reject.wrong_stage.selection_ended"
	CodeRejectOnlyDuring       = "reject.wrong_stage.only_during"
	CodeRejectCommitteeOnly    = "reject.wrong_actor.committee_only"
	CodeRejectNotOnCommittee   = "reject.wrong_actor.not_on_committee"
	CodeRejectChairOnly        = "reject.wrong_actor.chair_only"
	CodeRejectChairOrSecretary = "reject.wrong_actor.chair_or_secretary"
	CodeRejectAdminOnly        = "reject.wrong_actor.admin_only"
	CodeRejectNoApplication    = "reject.not_found.application"
	CodeRejectTextRequired     = "reject.invalid_argument.text_required"
	CodeRejectTextTooLong      = "reject.invalid_argument.text_too_long"
	CodeRejectYearNotCovered   = "reject.calendar.year_not_covered"
)

// Codes lists every code above with an example of the parameters the workflow passes (all
// of them; optional ones included), so that a test can check that the catalog renders each
// in every language. Values follow the formats the renderers expect: stages and components
// by their enum names, scores in hundredths, times in RFC 3339 UTC with the zone apart.
func Codes() []Message {
	return []Message{
		code(CodeEligEducationUnknown),
		code(CodeEligEducationUnrecognised, "level", "SMA"),
		code(CodeEligEducation, "required", string(EducationBachelor)),
		code(CodeEligExperienceUnknown),
		code(CodeEligExperience, "months", "40", "required", "60"),
		code(CodeEligAdministratorUnknown),
		code(CodeEligAdministrator, "months", "12", "required", "24"),
		code(CodeEligAgeUnknown),
		code(CodeEligAge, "age", "57", "max", "56"),
		code(CodeEligDocumentsUnknown),
		code(CodeEligDocuments, "missing", "ijazah, SKP"),

		code(CodeReasonCompetencyDoesNotMeet),
		code(CodeReasonCompetencyStillMeets),
		code(CodeReasonCompetencyBelowMark, "score", "6850", "mark", "7000"),
		code(CodeReasonInterviewBelowMark, "score", "6850", "mark", "7000"),
		code(CodeReasonNotShortlisted, "score", "7725", "size", "3"),
		code(CodeReasonPostponed, "count", "1", "extensions", "2", "required", "6"),
		code(CodeReasonNoQualified),
		code(CodeReasonObjectionAccepted, "objection", "sanggah-1", "answer", "Dokumen sudah lengkap."),
		code(CodeReasonAbsent, "stage", string(StageInterview)),

		code(CodeStatusReceived, "closes", "2027-01-15T17:00:00Z", "zone", "Asia/Jakarta"),
		code(CodeStatusScreening),
		code(CodeStatusInProgress, "stage", string(StageInterview), "passed", string(StageCompetencyTest),
			"deadline", "2027-02-03T17:00:00Z", "zone", "Asia/Jakarta", "accepted", string(StageCompetencyTest)),
		code(CodeStatusEliminated, "stage", string(StageCompetencyTest), "reason", "Nilai kurang.",
			"deadline", "2027-02-03T17:00:00Z", "zone", "Asia/Jakarta", "accepted", string(StageCompetencyTest)).
			with(code(CodeReasonCompetencyBelowMark, "score", "6850", "mark", "7000")),
		code(CodeStatusWithdrawn),
		code(CodeStatusShortlisted, "rank", "2", "deadline", "2027-02-03T17:00:00Z", "zone", "Asia/Jakarta",
			"accepted", string(StageCommitteeDecision)),
		code(CodeStatusAppointed),
		code(CodeStatusNotAppointed, "rank", "1"),
		code(CodeStatusNotSelected, "reason", "Tidak memenuhi syarat."),
		code(CodeStatusCancelled, "stage", string(StageCompetencyTest), "reason", "Anggaran dialihkan.").
			with(code(CodeReasonPostponed, "count", "1", "extensions", "2", "required", "6")),

		code(CodeEventOpened, "until", "2027-01-15", "zone", "Asia/Jakarta"),
		code(CodeEventExtended, "count", "3", "required", "6", "extension", "1", "max", "2", "until", "2027-01-29"),
		code(CodeEventClosed, "count", "12"),
		code(CodeEventPublished, "stage", string(StageAdministrativeScreening), "deadline", "2027-02-03T17:00:00Z", "zone", "Asia/Jakarta"),
		code(CodeEventStageOpened, "stage", string(StageInterview), "count", "5"),
		code(CodeEventCancelled, "stage", string(StageInterview), "reason", "Anggaran dialihkan."),
		code(CodeEventAppointed, "rank", "2"),
		code(CodeEventObjectionReminder, "objection", "STAGE_INTERVIEW:app-1", "application", "app-1", "stage", "STAGE_INTERVIEW", "due", "2026-08-18T17:00:00Z", "zone", "WIB"),
		code(CodeEventObjectionOverdue, "objection", "STAGE_INTERVIEW:app-1", "application", "app-1", "stage", "STAGE_INTERVIEW", "due", "2026-08-18T17:00:00Z", "zone", "WIB"),
		code(CodeEventAppointmentReminder, "due", "2026-08-18T17:00:00Z", "zone", "WIB"),
		code(CodeEventAppointmentOverdue, "due", "2026-08-18T17:00:00Z", "zone", "WIB"),
		code(CodeEventWindowReminder, "stage", "STAGE_INTERVIEW", "deadline", "2026-08-18T17:00:00Z", "zone", "WIB"),
		code(CodeEventAnnouncementClosing, "deadline", "2026-08-18T17:00:00Z", "zone", "WIB"),
		code(CodeEventShortlistSettled, "reason", "Tidak ada calon yang memenuhi.").with(code(CodeReasonNoQualified)),
		code(CodeEventShortlistFinal),
		code(CodeEventScheduled, "opens", "2027-01-04T01:00:00Z", "zone", "Asia/Jakarta"),
		code(CodeEventCorrected, "stage", string(StageCompetencyTest), "revision", "2", "reason", "Nilai salah ketik.",
			"deadline", "2027-02-03T17:00:00Z", "zone", "Asia/Jakarta"),

		code(CodeRejectFailsAutomaticCheck, "application", "app-1").with(code(CodeEligAge, "age", "57", "max", "56")),
		code(CodeRejectBelowPassMarks, "application", "app-1").with(code(CodeReasonCompetencyDoesNotMeet)),
		code(CodeRejectSelectionEnded, "stage", string(StageCancelled)),
		code(CodeRejectOnlyDuring, "want", string(StageInterview), "stage", string(StageCompetencyTest)),
		code(CodeRejectCommitteeOnly),
		code(CodeRejectNotOnCommittee),
		code(CodeRejectChairOnly),
		code(CodeRejectChairOrSecretary),
		code(CodeRejectAdminOnly),
		code(CodeRejectNoApplication, "application", "app-9"),
		code(CodeRejectYearNotCovered, "year", "2028"),
		code(CodeRejectTextRequired, "field", "reason"),
		code(CodeRejectTextRequired, "field", "cancellation_reason"),
		code(CodeRejectTextRequired, "field", "objection_reason"),
		code(CodeRejectTextRequired, "field", "answer"),
		code(CodeRejectTextRequired, "field", "statement"),
		code(CodeRejectTextRequired, "field", "track_record_note"),
		code(CodeRejectTextRequired, "field", "oversight_reference"),
		code(CodeRejectTextRequired, "field", "correction_reason"),
		code(CodeRejectTextRequired, "field", "reason", "application", "app-1"),
		code(CodeRejectTextTooLong, "field", "answer", "max", "2000", "application", "app-1"),
		// Problems of a selection's input (Validate).
		code("input.selection_id", "id", "x"),
		code("input.position"),
		code("input.position_level"),
		code("input.oversight_approval"),
		code("input.tie_break"),
		code("input.time_scale"),
		code("input.committee_size", "count", "3"),
		code("input.committee_member", "number", "3"),
		code("input.committee_duplicate", "subject", "x"),
		code("input.committee_internal_level", "name", "x"),
		code("input.committee_kind", "name", "x"),
		code("input.committee_role", "name", "x"),
		code("input.committee_internal_share", "internal", "3", "count", "3", "percent", "3"),
		code("input.committee_external_share", "external", "3", "count", "3", "percent", "3"),
		code("input.committee_chair", "count", "3"),
		code("input.committee_secretary", "count", "3"),
		code("input.min_education"),
		code("input.min_experience", "months", "3"),
		code("input.min_administrator", "months", "3"),
		code("input.max_age", "max", "3"),
		code("input.required_documents", "number", "3"),
		code("input.announcement_days", "days", "3"),
		code("input.max_extensions", "count", "3"),
		code("input.extension_days", "days", "3"),
		code("input.min_applicants", "count", "3"),
		code("input.when_too_few"),
		code("input.objection_days", "days", "3"),
		code("input.weight_component", "number", "3", "component", "KOMPONEN_X"),
		code("input.weight_duplicate", "component", "SCORE_COMPONENT_PAPER"),
		code("input.weight_range", "component", "SCORE_COMPONENT_PAPER", "percent", "3"),
		code("input.weight_sum", "percent", "3"),
		code("input.threshold", "component", "FINAL_SCORE"),
		// Calendar problems (calendar.Error's Key and Args).
		code("calendar.unknown_zone", "zone", "WITT"),
		code("calendar.year_out_of_range", "year", "1999"),
		code("calendar.year_twice", "year", "2027"),
		code("calendar.day_not_in_year", "day", "2026-12-31", "year", "2027"),
		code("calendar.day_kind", "day", "2027-01-01", "kind", "X"),
		code("calendar.day_twice", "day", "2027-01-01", "year", "2027"),
		code("calendar.bad_count", "count", "0"),
		code("calendar.too_long", "max", "3660"),
		code("calendar.bad_date", "date", "2027-13-01"),
		// Rejections named only where they are raised.
		code("reject.wrong_stage.no_results_now", "stage", "STAGE_ANNOUNCEMENT"),
		code("reject.wrong_stage.published_correct_by_objection", "stage", "STAGE_INTERVIEW"),
		code("reject.invalid_argument.results_batch", "max", "500", "count", "0"),
		code("reject.wrong_stage.application_not_in_stage", "application", "app-1"),
		code("reject.wrong_actor.recused_results", "application", "app-1"),
		code("reject.duplicate.result_recorded", "application", "app-1"),
		code("reject.wrong_stage.decision_not_advanced"),
		code("reject.wrong_stage.closes_by_itself", "stage", "STAGE_ANNOUNCEMENT"),
		code("reject.wrong_stage.already_published", "stage", "STAGE_INTERVIEW"),
		code("reject.incomplete.results_missing", "count", "2", "examples", "app-1, app-2"),
		code("reject.wrong_actor.objection_own"),
		code("reject.wrong_stage.nothing_to_object", "stage", "STAGE_INTERVIEW"),
		code("reject.wrong_stage.not_in_result", "application", "app-1"),
		code("reject.duplicate.objection_filed"),
		code("reject.out_of_window.objection_window_ended", "stage", "STAGE_ADMINISTRATIVE_SCREENING", "deadline", "2026-07-15T17:00:00Z", "zone", "WIB"),
		code("reject.out_of_window.objection_revision_replaced", "stage", "STAGE_ADMINISTRATIVE_SCREENING", "revision", "1", "current", "2"),
		code("reject.not_found.objection_revision", "stage", "STAGE_ADMINISTRATIVE_SCREENING", "revision", "3"),
		code("reject.not_found.objection", "objection", "sanggah-9"),
		code("reject.duplicate.objection_answered"),
		code("reject.wrong_actor.recused_objection"),
		code("reject.invalid_argument.rejected_with_correction"),
		code("reject.incomplete.correction_required"),
		code("reject.invalid_argument.correction_other_application"),
		code("reject.invalid_argument.correction_screening_verdict"),
		code("reject.invalid_argument.correction_interview"),
		code("reject.invalid_argument.withdrawal_reason"),
		code("reject.wrong_actor.withdrawal"),
		code("reject.wrong_stage.application_out", "application", "app-1"),
		code("reject.wrong_stage.conflict_before_close"),
		code("reject.invalid_argument.conflict_batch", "max", "500"),
		code("reject.duplicate.application_twice", "application", "app-1"),
		code("reject.duplicate.conflict_declared", "application", "app-1"),
		code("reject.invalid_argument.no_holiday_list"),
		code("reject.duplicate.holiday_year", "year", "2027"),
		code("reject.wrong_stage.appointment_early"),
		code("reject.invalid_argument.not_on_shortlist", "application", "app-1"),
		code("reject.incomplete.rank_reason", "rank", "2"),
		code("reject.incomplete.rank_justification", "rank", "2"),
		code("reject.invalid_argument.score_not_here", "component", "SCORE_COMPONENT_INTERVIEW", "application", "app-1"),
		code("reject.duplicate.score_twice", "component", "SCORE_COMPONENT_PAPER", "application", "app-1"),
		code("reject.invalid_argument.score_range", "application", "app-1"),
		code("reject.invalid_argument.category_required", "application", "app-1"),
		code("reject.invalid_argument.competency_range", "application", "app-1"),
		code("reject.invalid_argument.unknown_outcome", "outcome", "MAYBE", "application", "app-1"),
		code("reject.invalid_argument.screening_verdict", "application", "app-1"),
		code("reject.invalid_argument.screening_scores", "application", "app-1"),
		code("reject.invalid_argument.interview_verdict", "application", "app-1"),
		code("reject.invalid_argument.interview_one_score", "application", "app-1"),
		code("reject.invalid_argument.interview_category", "application", "app-1"),
		code("reject.duplicate.decided"),
		code("reject.invalid_argument.shortlist_order", "expected", "app-2, app-1, app-3"),
		code("reject.incomplete.statement", "count", "2"),
		// The requirement checklist.
		code(CodeItemEducationMet, "level", string(EducationMaster), "required", string(EducationBachelor)),
		code(CodeItemExperienceMet, "months", "120", "required", "60"),
		code(CodeItemAdministratorMet, "months", "48", "required", "24"),
		code(CodeItemAgeMet, "age", "45", "max", "56"),
		code(CodeItemDocumentPresent, "document", "lhkpn"),
		code(CodeItemDocumentMissing, "document", "lhkpn"),
		code(CodeItemDocumentsUnknown, "document", "lhkpn"),
		code(CodeItemAgencyItem, "item", "pakta-integritas"),
		code(CodeReasonItemsUnmet, "items", "age, document:lhkpn, pakta-integritas", "count", "3"),
		code("reject.not_found.requirement_item", "application", "app-1", "item", "x"),
		code("reject.duplicate.requirement_item_twice", "application", "app-1", "item", "age"),
		code("reject.duplicate.requirement_item_decided", "application", "app-1", "item", "age"),
		code("reject.invalid_argument.outcome_disagrees_with_items", "application", "app-1", "outcome", string(OutcomePass)),
		code("reject.invalid_argument.no_checklist", "application", "app-1"),
		code("reject.incomplete.items_undecided", "application", "app-1", "items", "education, document:lhkpn", "count", "2"),
		code("reject.invalid_argument.objection_item_not_unmet", "item", "age"),
		code("reject.invalid_argument.objection_items_screening_only"),
		code("reject.invalid_argument.objection_document_not_allowed"),
		code("reject.invalid_argument.objection_document_name"),
		code("reject.invalid_argument.objection_names_no_item"),
		code("reject.invalid_argument.item_answers_not_correction"),
		code("reject.invalid_argument.item_not_contested", "item", "age"),
		code("reject.incomplete.item_unanswered", "item", "age"),
		code("reject.invalid_argument.accepted_disagrees_with_items"),
		code("input.requirement_item_id", "number", "3"),
		code("input.requirement_item_duplicate", "item", "x"),
		code("input.requirement_item_title", "number", "3"),
		code(CodeRejectTextRequired, "field", "note", "application", "app-1", "item", "age"),
		code(CodeRejectTextRequired, "field", "item_answer", "item", "age"),
		// Rejections of the parts merged beside message codes: blocked selections and resume,
		// request IDs across runs, corrections, conflicts with a relationship, withdrawal
		// during the announcement.
		code("reject.invalid_argument.data_not_storable"),
		code("reject.inconsistent.records"),
		code("reject.unavailable.not_saved"),
		code("reject.wrong_stage.not_blocked"),
		code("reject.duplicate.request_id_reused"),
		code("reject.wrong_stage.withdraw_while_closing"),
		code("reject.invalid_argument.relationship_required"),
		code("reject.wrong_stage.not_corrected_this_way", "stage", string(StageAdministrativeScreening)),
		code("reject.wrong_stage.correction_not_published", "stage", string(StageInterview)),
		code("reject.wrong_stage.correction_too_late", "stage", string(StageCompetencyTest)),
		code("reject.wrong_actor.recused_correction", "application", "app-1"),
		code("reject.wrong_stage.objection_pending_correction", "application", "app-1"),
		code("reject.invalid_argument.correction_verdict_only", "application", "app-1"),
		code("reject.wrong_stage.no_sessions", "stage", string(StageAdministrativeScreening)),
		code(CodeRejectTextRequired, "field", "relationship"),
		code(CodeRejectTextRequired, "field", "ppk_decree_ref"),
	}
}
