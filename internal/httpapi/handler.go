// Package httpapi is bottega's HTTP face: the Segment-compatible ingestion
// API (/v1/*), the JSON API (/api/v1/*, documented by OpenAPI 3.1 at
// /openapi.json), health and metrics. routes.go lists every route and the
// credential it needs.
package httpapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/predict"
	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/event"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/process"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// Deps are what the handler needs.
type Deps struct {
	DB           *sqldb.DB
	Auth         *auth.Store
	Sources      *auth.SourceCache
	APIKeys      *auth.APIKeyCache // nil: a cache that only lasts a request
	Ingester     *event.Ingester
	Metrics      *Metrics
	Logger       *slog.Logger
	BaseCurrency string
	PhoneRegion  string
	Version      string
	Now          func() time.Time
	// Ready reports whether the server is ready for traffic (false while
	// starting or draining).
	Ready func() bool
	// IngestTimeout bounds how long an ingestion request waits for its
	// commit before answering 503 (default 10 s).
	IngestTimeout time.Duration
	// Extensions keep derived data that an unmerge must rebuild.
	Extensions []process.Extension
	// Predictions fits the prediction models (nil: one with default margin,
	// discount rate and minimums).
	Predictions *predict.Service
	// Pages serves every path that is not an API's: the dashboard (nil:
	// such paths answer 404).
	Pages http.Handler
}

// NewHandler returns bottega's HTTP handler.
func NewHandler(d Deps) http.Handler {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.IngestTimeout <= 0 {
		d.IngestTimeout = 10 * time.Second
	}
	if d.APIKeys == nil {
		d.APIKeys = auth.NewAPIKeyCache(d.Auth, 0)
	}
	mux := http.NewServeMux()
	ing := &ingest{ingester: d.Ingester, sources: d.Sources, log: d.Logger, metrics: d.Metrics, timeout: d.IngestTimeout}
	api := newAPI(mux, d)
	for _, r := range routes {
		switch r.Credential {
		case WriteKey:
			mux.Handle(r.Method+" "+r.Path, ing.handler(r.eventType))
		case Public:
			switch r.Path {
			case "/healthz":
				mux.HandleFunc(r.Method+" "+r.Path, func(w http.ResponseWriter, _ *http.Request) {
					if d.Ready != nil && !d.Ready() {
						writeProblem(w, problem(d.Logger, fault.New(fault.Unavailable, "not ready")))
						return
					}
					writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": d.Version})
				})
			case "/metrics":
				mux.Handle(r.Method+" "+r.Path, d.Metrics.Handler())
			}
		}
	}
	documentIngestion(api)
	// Anything else under /v1/ or /api/ answers in JSON, not with the
	// mux's plain-text 404 or 405.
	notFound := func(w http.ResponseWriter, r *http.Request) {
		for _, rt := range routes {
			if rt.Path == r.URL.Path {
				w.Header().Set("Allow", rt.Method)
				writeProblem(w, &Problem{Title: http.StatusText(http.StatusMethodNotAllowed), Status: http.StatusMethodNotAllowed,
					Detail: r.Method + " is not allowed on " + r.URL.Path + "; use " + rt.Method, Code: string(fault.Invalid)})
				return
			}
		}
		writeProblem(w, problem(d.Logger, fault.New(fault.NotFound, "no such endpoint: %s %s", r.Method, r.URL.Path)))
	}
	mux.HandleFunc("/v1/", notFound)
	mux.HandleFunc("/api/", notFound)
	if d.Pages != nil {
		mux.Handle("/", d.Pages)
	}
	// Browsers may not post to the JSON API from other sites; ingestion
	// takes events from web shops on any origin, with write keys.
	cop := http.NewCrossOriginProtection()
	cop.AddInsecureBypassPattern("/v1/")
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeProblem(w, problem(d.Logger, fault.New(fault.Forbidden, "cross-origin request refused")))
	}))
	return secureHeaders(cop.Handler(masking(mux)))
}

func secureHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}
