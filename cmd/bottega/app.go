package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/funnel"
	"github.com/bottega-crm/bottega/internal/analytics/kpi"
	"github.com/bottega-crm/bottega/internal/analytics/predict"
	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/config"
	"github.com/bottega-crm/bottega/internal/event"
	"github.com/bottega-crm/bottega/internal/httpapi"
	"github.com/bottega-crm/bottega/internal/identity"
	"github.com/bottega-crm/bottega/internal/order"
	"github.com/bottega-crm/bottega/internal/process"
	"github.com/bottega-crm/bottega/internal/schedule"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/bottega-crm/bottega/internal/survey"
	"github.com/bottega-crm/bottega/internal/ticket"
	"github.com/bottega-crm/bottega/internal/web"
)

// ServeCmd runs the server.
type ServeCmd struct {
	config.Database
	config.Server
}

func (c *ServeCmd) Run(env *Env) error {
	log, err := newLogger(env.Stderr, c.LogLevel, c.LogFormat)
	if err != nil {
		return err
	}
	db, err := openDB(env.Ctx, c.Database)
	if err != nil {
		return err
	}
	defer db.Close()
	a, err := newApp(db, c.Server, log)
	if err != nil {
		return err
	}
	return a.serve(env.Ctx, func(url string) {
		fmt.Fprintf(env.Stdout, "bottega %s serving %s on %s (%s)\n", version, db.Name(), url, db.Dialect())
	})
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: l}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

// app is a wired bottega: storage, ingestion, processing and HTTP.
type app struct {
	db        *sqldb.DB
	cfg       config.Server
	log       *slog.Logger
	auth      *auth.Store
	committer *event.Committer
	ingester  *event.Ingester
	processor *process.Processor
	jobs      *schedule.Scheduler // periodic work: score refreshes, model refits
	handler   http.Handler
	ready     atomic.Bool
}

func newApp(db *sqldb.DB, cfg config.Server, log *slog.Logger) (*app, error) {
	cfg.Currency = strings.ToUpper(cfg.Currency)
	if !order.ValidCurrency(cfg.Currency) {
		return nil, fmt.Errorf("currency %q is not an ISO 4217 code such as EUR", cfg.Currency)
	}
	rules := identity.DefaultRules(cfg.PhoneRegion)
	if err := rules.Compile(); err != nil {
		return nil, err
	}
	a := &app{db: db, cfg: cfg, log: log, auth: auth.NewStore(db, time.Now), jobs: schedule.New(db, log)}
	metrics := httpapi.NewMetrics(db)
	// Derived data other packages keep in step with processing.
	var exts []process.Extension
	exts = append(exts, survey.NewRecorder(), ticket.NewRecorder(), funnel.NewRecorder(cfg.Currency))
	// KPI rollups: built from the orders on the first start, or when the churn window changed.
	kpiOpts := kpi.Options{BaseCurrency: cfg.Currency, ChurnWindow: cfg.ChurnWindow}
	if rebuilt, err := kpi.Prepare(context.Background(), db, kpiOpts); err != nil {
		return nil, fmt.Errorf("KPI rollups: %w", err)
	} else if rebuilt {
		log.Info("kpi: rollups built", "churn_window_days", kpiOpts.ChurnWindow)
	}
	exts = append(exts, kpi.NewExtension(kpiOpts))
	a.processor = process.New(db, process.Options{
		BatchSize: cfg.BatchSize, BaseCurrency: cfg.Currency, PhoneRegion: rules.PhoneRegion,
		Logger: log, Observe: metrics.ObserveBatch, Extensions: exts,
	})
	a.committer = event.NewCommitter(db, event.CommitterOptions{
		Observe: func(s event.CommitStats) {
			metrics.ObserveCommit(s)
			if s.Err != nil {
				log.Warn("ingest: commit failed", "events", s.Events, "err", s.Err)
			}
		},
		Notify: a.processor.Wake,
	})
	a.ingester = event.NewIngester(a.committer, event.DefaultLimits(), time.Now)
	if !(cfg.PredictionMargin >= 0 && cfg.PredictionMargin <= 1) || !(cfg.PredictionDiscountRate >= 0 && cfg.PredictionDiscountRate < 1) {
		return nil, fmt.Errorf("prediction margin %g must be in (0, 1] and discount rate %g in [0, 1)", cfg.PredictionMargin, cfg.PredictionDiscountRate)
	}
	preds := predict.NewService(db, predict.Config{BaseCurrency: cfg.Currency, Margin: cfg.PredictionMargin, DiscountRate: cfg.PredictionDiscountRate}, time.Now)
	a.jobs.Add(schedule.Job{Name: "predictions", Every: 24 * time.Hour, Run: preds.Refit})
	a.jobs.Add(schedule.Job{Name: "sessions", Every: time.Hour, Run: func(ctx context.Context) error {
		n, err := a.auth.PurgeSessions(ctx)
		if n > 0 {
			log.Info("sessions: expired sessions deleted", "sessions", n)
		}
		return err
	}})
	if cfg.SessionIdle == 0 {
		cfg.SessionIdle = auth.DefaultSessionIdle
	}
	if cfg.SessionLifetime == 0 {
		cfg.SessionLifetime = auth.DefaultSessionLifetime
	}
	if cfg.SessionIdle < 0 || cfg.SessionLifetime < cfg.SessionIdle {
		return nil, fmt.Errorf("session idle timeout %s must be positive and at most the session lifetime %s", cfg.SessionIdle, cfg.SessionLifetime)
	}
	a.auth.SetSessionTimeouts(cfg.SessionIdle, cfg.SessionLifetime)
	sources, apiKeys := auth.NewSourceCache(a.auth, 2*time.Second), auth.NewAPIKeyCache(a.auth, 2*time.Second)
	pages, err := web.New(web.Deps{
		DB: db, Auth: a.auth, Sources: sources, APIKeys: apiKeys, Logins: auth.NewLoginLimiter(), Logger: log,
		BaseCurrency: cfg.Currency, PhoneRegion: rules.PhoneRegion, Version: version, Now: time.Now,
		SecureCookies: cfg.SecureCookies, Extensions: exts, Predictions: preds, IngestURL: cfg.PublicURL,
	})
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	a.handler = httpapi.NewHandler(httpapi.Deps{
		DB: db, Auth: a.auth, Sources: sources, APIKeys: apiKeys,
		Ingester: a.ingester,
		Metrics:  metrics, Logger: log, BaseCurrency: cfg.Currency, PhoneRegion: rules.PhoneRegion,
		Version: version, Now: time.Now, Ready: a.ready.Load, IngestTimeout: cfg.IngestTimeout, Extensions: exts,
		Predictions: preds, Pages: pages,
	})
	if err := a.addSegmentJobs(); err != nil {
		return nil, err
	}
	return a, nil
}

// serve listens on cfg.Addr until ctx is done, then drains: it stops
// accepting connections, lets requests in flight finish (their events are
// committed), stops the processor after its current batch, and returns.
// started is called with the base URL once the server accepts requests.
func (a *app) serve(ctx context.Context, started func(url string)) error {
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return err
	}
	if a.cfg.PprofAddr != "" {
		stopPprof, err := servePprof(a.cfg.PprofAddr, a.log)
		if err != nil {
			ln.Close()
			return err
		}
		defer stopPprof()
	}
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    512 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); a.committer.Run() }()
	pctx, stopProcessing := context.WithCancel(context.WithoutCancel(ctx))
	wg.Add(1)
	go func() { defer wg.Done(); _ = a.processor.Run(pctx) }()
	wg.Add(1)
	go func() { defer wg.Done(); a.jobs.Run(pctx) }()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.ready.Store(true)
	url := "http://" + ln.Addr().String()
	a.log.Info("serving", "addr", url, "db", a.db.Name(), "engine", a.db.Dialect().String())
	if started != nil {
		started(url)
	}

	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	a.ready.Store(false)
	a.log.Info("draining")
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	shutdownErr := srv.Shutdown(sctx)
	a.committer.Close()
	stopProcessing()
	wg.Wait()
	a.log.Info("stopped")
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return shutdownErr
}

// servePprof serves Go's profiler on its own listener, for operators
// chasing a performance problem.
func servePprof(addr string, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	log.Info("profiler", "addr", "http://"+ln.Addr().String()+"/debug/pprof/")
	return func() { srv.Close() }, nil
}
