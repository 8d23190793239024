package bench

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/bkpsdm/seleksi/internal/auth"
	"github.com/bkpsdm/seleksi/internal/store"
)

// Env is the running stack a scenario measures, and what it needs to reach it.
type Env struct {
	// HTTPBase is the REST gateway's and the web pages' base URL, without a trailing slash.
	HTTPBase string
	// GRPC is a client connection to seleksid's gRPC port, shared by a scenario's clients.
	GRPC *grpc.ClientConn
	// Temporal is where seleksid's Temporal frontend listens (the embedded server, or the
	// external cluster), for the bare-Temporal baselines.
	TemporalAddress, TemporalNamespace string
	// Store is the store seleksid uses, opened by the bench for the raw-SQL baselines and to
	// check what scenarios wrote; scenarios never change Seleksi's rows through it.
	Store *store.Store
	// SQL is a plain database/sql handle on the same database, for the raw baselines that
	// write scratch tables of the bench's own; scenarios never touch Seleksi's tables with it.
	SQL *sql.DB
	// Mint signs a bearer token seleksid accepts.
	Mint func(o auth.MintOptions) (string, error)
	// Server measures seleksid's process: CPU time and peak memory.
	Server ProcessMeter
	// SecondsPerDay is seleksid's time scale (-demo-seconds-per-day), 0 when it runs on real
	// days. Scenarios that run selections through every stage need it.
	SecondsPerDay int64
	// Log receives progress, so a long run shows that it is alive.
	Log *slog.Logger
}

// ProcessMeter reads a process's resource use.
type ProcessMeter interface {
	// CPU is the CPU time (user and system) the process has used since it started.
	CPU() (time.Duration, error)
	// PeakRSS is the largest resident set since the last ResetPeak (or the start).
	PeakRSS() (int64, error)
	// ResetPeak starts a new peak, so that each scenario reports its own.
	ResetPeak() error
}

// Bearer returns ctx with token as the bearer token of the gRPC calls made with it.
func Bearer(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}
