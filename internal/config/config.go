// Package config declares bottega's settings. Every setting is a command-line
// flag and, under the name BOTTEGA_<FLAG> (upper case, '-' as '_'), an
// environment variable; a flag given on the command line wins. There are no
// package-level settings: the parsed values are passed down explicitly.
package config

import (
	"strings"
	"time"
)

// Database selects the database.
type Database struct {
	DB          string        `help:"SQLite file path, or a postgres:// URL." default:"bottega.db" placeholder:"PATH|URL"`
	BusyTimeout time.Duration `help:"How long a SQLite writer waits for a lock held by another process." default:"10s" hidden:""`
}

// Server configures the HTTP server and the pipeline behind it.
type Server struct {
	Addr            string        `help:"Address to listen on." default:"127.0.0.1:8080"`
	Currency        string        `help:"The shop's base currency (ISO 4217): customer revenue is summed in it." default:"EUR"`
	PhoneRegion     string        `help:"Country assumed for phone numbers written without +prefix (ISO 3166 code)." default:"IT"`
	IngestTimeout   time.Duration `help:"How long an ingestion request waits for its commit before answering 503." default:"10s"`
	ShutdownTimeout time.Duration `help:"How long SIGTERM waits for requests in flight." default:"20s"`
	BatchSize       int           `help:"Most events the processor applies per transaction (fewer while clients wait for the SQLite writer)." default:"20000"`
	ChurnWindow     int           `help:"Days without an order after which a customer counts as lost (churn and retention KPIs); changing it rebuilds the KPI rollups at start." default:"180"`
	PprofAddr       string        `help:"If set, serve Go's profiler (net/http/pprof) on this address, e.g. 127.0.0.1:6060. Never expose it." placeholder:"ADDR"`
	LogLevel        string        `help:"Log level." enum:"debug,info,warn,error" default:"info"`
	LogFormat       string        `help:"Log format." enum:"text,json" default:"text"`

	// The dashboard.
	PublicURL       string        `help:"The address staff and web shops reach bottega at, e.g. https://crm.example.com (default: the address a page was asked on); the snippets on the Sources page send events there." placeholder:"URL"`
	SecureCookies   bool          `help:"Mark the session cookie Secure even on plain HTTP: set it when a TLS proxy sits in front of bottega."`
	SessionIdle     time.Duration `help:"A dashboard session ends after this long without a request." default:"1h"`
	SessionLifetime time.Duration `help:"A dashboard session ends this long after signing in, however busy." default:"12h"`

	// Predicted customer lifetime value (docs/predictions.md).
	PredictionMargin       float64 `help:"Share of order value that is profit, for the predicted 12-month CLV (1: CLV in revenue)." default:"1"`
	PredictionDiscountRate float64 `help:"Yearly discount rate of the predicted 12-month CLV, e.g. 0.1 for 10%." default:"0.1"`
}

// EnvName returns the environment variable that sets a flag.
func EnvName(flag string) string {
	return "BOTTEGA_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}
