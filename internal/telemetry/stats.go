package telemetry

import (
	"context"
	"log/slog"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Stats is the state of the deployment as the store holds it, read at each scrape.
type Stats struct {
	// Selections counts selections per stage (STAGE_ANNOUNCEMENT ... STAGE_CLOSED); stages
	// listed with zero are reported as zero rather than left out.
	Selections map[string]int64
	// Blocked counts blocked selections per reason code.
	Blocked map[string]int64
	// OutboxPending counts notifications not delivered yet; OutboxOldestPending is when the
	// oldest of them was queued (zero when none).
	OutboxPending       int64
	OutboxOldestPending time.Time
	// DeadLetters counts notifications whose attempts ran out.
	DeadLetters int64
	// ArchivePending counts ended selections whose final workflow run is not in the archive
	// yet; ArchiveOldestPending is when the oldest of them ended (zero when none).
	ArchivePending       int64
	ArchiveOldestPending time.Time
}

// StatsFunc reads Stats from the store.
type StatsFunc func(ctx context.Context) (Stats, error)

// Names of the store gauges.
const (
	MetricSelections          = "seleksi_selections"
	MetricSelectionsBlocked   = "seleksi_selections_blocked"
	MetricOutboxPending       = "seleksi_outbox_pending"
	MetricOutboxOldestPending = "seleksi_outbox_oldest_pending_age_seconds"
	MetricDeadLetters         = "seleksi_outbox_dead_letters"
	MetricArchivePending      = "seleksi_archive_pending_selections"
	MetricArchiveLag          = "seleksi_archive_lag_seconds"
	MetricStatsUp             = "seleksi_store_stats_up"
)

// statsCollector reads the store when scraped. Every process that serves metrics reports the
// same values (they describe the shared store): aggregate them with max, not sum.
type statsCollector struct {
	read    StatsFunc
	timeout time.Duration
	now     func() time.Time
	logger  *slog.Logger

	selections, blocked, outboxPending, outboxAge, dead, archivePending, archiveLag, up *prometheus.Desc
}

// RegisterStats adds the store gauges, read by read at every scrape within timeout (the
// scrape reports seleksi_store_stats_up 0 and leaves the gauges out when it fails). now
// defaults to time.Now.
func (t *Telemetry) RegisterStats(read StatsFunc, timeout time.Duration, now func() time.Time) error {
	if t == nil {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	return t.registry.Register(&statsCollector{read: read, timeout: timeout, now: now, logger: t.logger,
		selections: prometheus.NewDesc(MetricSelections, "Selections per stage.", []string{"stage"}, nil),
		blocked: prometheus.NewDesc(MetricSelectionsBlocked,
			"Blocked selections per reason code: a system step failed and waits to be resumed.", []string{"reason"}, nil),
		outboxPending: prometheus.NewDesc(MetricOutboxPending, "Notifications waiting to be delivered.", nil, nil),
		outboxAge: prometheus.NewDesc(MetricOutboxOldestPending,
			"Age of the oldest notification waiting to be delivered (0 when none).", nil, nil),
		dead: prometheus.NewDesc(MetricDeadLetters,
			"Notifications whose delivery attempts ran out (dead letters), until the secretariat retries them.", nil, nil),
		archivePending: prometheus.NewDesc(MetricArchivePending,
			"Ended selections whose final workflow run is not archived in the store yet.", nil, nil),
		archiveLag: prometheus.NewDesc(MetricArchiveLag,
			"How long the oldest ended selection has waited for its history to be archived (0 when none).", nil, nil),
		up: prometheus.NewDesc(MetricStatsUp, "1 when the store answered this scrape's queries, 0 when it did not.", nil, nil),
	})
}

func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.selections, c.blocked, c.outboxPending, c.outboxAge, c.dead, c.archivePending, c.archiveLag, c.up} {
		ch <- d
	}
}

func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	s, err := c.read(ctx)
	if err != nil {
		c.logger.Warn("telemetry: reading the store's state for the metrics", "error", err)
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	for _, k := range sortedKeys(s.Selections) {
		ch <- prometheus.MustNewConstMetric(c.selections, prometheus.GaugeValue, float64(s.Selections[k]), k)
	}
	for _, k := range sortedKeys(s.Blocked) {
		ch <- prometheus.MustNewConstMetric(c.blocked, prometheus.GaugeValue, float64(s.Blocked[k]), k)
	}
	now := c.now()
	ch <- prometheus.MustNewConstMetric(c.outboxPending, prometheus.GaugeValue, float64(s.OutboxPending))
	ch <- prometheus.MustNewConstMetric(c.outboxAge, prometheus.GaugeValue, age(now, s.OutboxOldestPending))
	ch <- prometheus.MustNewConstMetric(c.dead, prometheus.GaugeValue, float64(s.DeadLetters))
	ch <- prometheus.MustNewConstMetric(c.archivePending, prometheus.GaugeValue, float64(s.ArchivePending))
	ch <- prometheus.MustNewConstMetric(c.archiveLag, prometheus.GaugeValue, age(now, s.ArchiveOldestPending))
}

// age is how long ago since was, in seconds; zero for the zero time or one in the future.
func age(now, since time.Time) float64 {
	if since.IsZero() || since.After(now) {
		return 0
	}
	return now.Sub(since).Seconds()
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
