package gateway

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Probes for load balancers and orchestrators.
//
// /healthz is liveness: the process runs and its HTTP server answers. It makes no call at
// all, to the gRPC server or to any dependency, so a database or Temporal outage never gets
// a healthy process restarted (which would only add a cold start to the outage).
//
// /readyz is readiness: 200 while the gRPC health service reports SERVING (the servers are up,
// the process is not shutting down, and the store and Temporal answered their last check),
// 503 otherwise. It asks the health service through the gateway's own channel to the
// services, as every REST call does.
const (
	livenessPath  = "/healthz"
	readinessPath = "/readyz"
)

// readinessTimeout bounds /readyz's call to the gRPC health service, far below any probe's
// timeout.
const readinessTimeout = time.Second

func registerProbes(mux *runtime.ServeMux, conn grpc.ClientConnInterface) error {
	if err := mux.HandlePath(http.MethodGet, livenessPath, func(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
		writeProbe(w, http.StatusOK, "LIVE")
	}); err != nil {
		return fmt.Errorf("gateway: liveness route: %w", err)
	}
	health := healthpb.NewHealthClient(conn)
	if err := mux.HandlePath(http.MethodGet, readinessPath, func(w http.ResponseWriter, r *http.Request, _ map[string]string) {
		ctx, cancel := context.WithTimeout(r.Context(), readinessTimeout)
		defer cancel()
		resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			writeProbe(w, http.StatusServiceUnavailable, healthpb.HealthCheckResponse_NOT_SERVING.String())
			return
		}
		writeProbe(w, http.StatusOK, healthpb.HealthCheckResponse_SERVING.String())
	}); err != nil {
		return fmt.Errorf("gateway: readiness route: %w", err)
	}
	return nil
}

func writeProbe(w http.ResponseWriter, code int, status string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = fmt.Fprintf(w, "{\"status\":%q}\n", status)
}
