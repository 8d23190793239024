package telemetry

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"gorm.io/gorm"
)

// GormPlugin puts a span around every store statement made within a traced call (an RPC, an
// activity), named "store SELECT applications" and the like; statements of untraced
// background loops (the outbox dispatcher's polling) get none. Nil when tracing is off. The
// SQL text and its arguments are not recorded: they carry personal data.
//
// gorm's own OpenTelemetry plugin (gorm.io/plugin/opentelemetry) would do this too, but it
// brings its own metrics and semantic-convention versions; a span per statement is all the
// traces need.
func (t *Telemetry) GormPlugin() gorm.Plugin {
	if !t.Tracing() {
		return nil
	}
	return gormTracing{tracer: t.tracer.Tracer("github.com/bkpsdm/seleksi/internal/store")}
}

type gormTracing struct{ tracer trace.Tracer }

func (gormTracing) Name() string { return "seleksi:tracing" }

// parentKey keeps, on a statement, the context its span replaced.
const parentKey = "seleksi:tracing:parent"

func (g gormTracing) Initialize(db *gorm.DB) error {
	cb := db.Callback()
	return errors.Join(
		cb.Create().Before("gorm:create").Register("seleksi:span_start", g.start("INSERT")),
		cb.Create().After("gorm:create").Register("seleksi:span_end", g.end),
		cb.Query().Before("gorm:query").Register("seleksi:span_start", g.start("SELECT")),
		cb.Query().After("gorm:query").Register("seleksi:span_end", g.end),
		cb.Update().Before("gorm:update").Register("seleksi:span_start", g.start("UPDATE")),
		cb.Update().After("gorm:update").Register("seleksi:span_end", g.end),
		cb.Delete().Before("gorm:delete").Register("seleksi:span_start", g.start("DELETE")),
		cb.Delete().After("gorm:delete").Register("seleksi:span_end", g.end),
		cb.Row().Before("gorm:row").Register("seleksi:span_start", g.start("ROW")),
		cb.Row().After("gorm:row").Register("seleksi:span_end", g.end),
		cb.Raw().Before("gorm:raw").Register("seleksi:span_start", g.start("EXEC")),
		cb.Raw().After("gorm:raw").Register("seleksi:span_end", g.end),
	)
}

func (g gormTracing) start(op string) func(*gorm.DB) {
	return func(db *gorm.DB) {
		ctx := db.Statement.Context
		if ctx == nil || !trace.SpanContextFromContext(ctx).IsValid() {
			return
		}
		name := "store " + op
		if db.Statement.Table != "" {
			name += " " + db.Statement.Table
		}
		spanCtx, _ := g.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("db.operation.name", op), attribute.String("db.collection.name", db.Statement.Table)))
		db.InstanceSet(parentKey, ctx)
		db.Statement.Context = spanCtx
	}
}

func (g gormTracing) end(db *gorm.DB) {
	parent, ok := db.InstanceGet(parentKey)
	if !ok {
		return
	}
	span := trace.SpanFromContext(db.Statement.Context)
	if err := db.Error; err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		span.SetStatus(codes.Error, "store statement failed")
	}
	span.SetAttributes(attribute.Int64("db.rows_affected", db.RowsAffected))
	span.End()
	// Later statements of the same session are siblings, not children, of this one.
	db.Statement.Context = parent.(context.Context)
}
