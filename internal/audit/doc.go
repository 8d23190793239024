// Package audit owns the evidence an auditor needs to prove what happened in a selection
// without trusting the operators: the hash chain over the audit log (ChainHash, CheckChain),
// the signed export bundle (BundleWriter, which streams a bundle of any size, and WriteBundle;
// ReadBundle, Bundle.VerifySignature, Bundle.CheckParts, and CheckArchive, which checks an
// archive without holding its parts), the replay of every workflow run through the current workflow code
// with the final state rebuilt from it (Replay), the facts extracted from the history that
// the audit log must agree with (HistoryFacts, CrossCheck, CheckSnapshots), the store's
// projection rebuilt from the history and compared row by row and column by column with
// what the store serves and with the replayed state (ExpectedProjection, CheckProjection,
// CheckState), and the human-readable timeline (Timeline, RenderTimeline).
//
// It is a pure library: it reads histories and audit events handed to it and never talks to
// the store, the Temporal server or the network, so that an auditor can run all of it
// offline from a bundle alone. The store converts its audit rows to AuditEvent and computes
// their hashes with ChainHash; the API and seleksictl wire the functions here to routes and
// commands.
//
// Every check reports Findings rather than stopping at the first problem, because an auditor
// needs the complete list of what does not hold, with the workflow history event IDs and
// audit sequence numbers involved.
package audit
