package httpapi

import "github.com/bottega-crm/bottega/internal/auth"

// Credential is what a route asks of its caller.
type Credential int

const (
	Public   Credential = iota // nothing
	WriteKey                   // a source write key: HTTP Basic user, or writeKey in the body
	APIKey                     // an API key: Authorization: Bearer <key>
)

func (c Credential) String() string {
	return [...]string{"public", "write key", "API key"}[c]
}

// Route is one endpoint.
type Route struct {
	Method     string
	Path       string
	Credential Credential
	Permission Permission // what an API key or a staff member needs for it ("" for public and ingestion routes)
	eventType  string     // for ingestion routes: the Segment call type ("" for batch)
}

// Permission is what a route asks of an API key or a staff member; the
// permission table lives in auth.
type Permission = auth.Permission

// The permissions routes use.
const (
	PipelineRead   = auth.PipelineRead
	CustomersRead  = auth.CustomersRead
	CustomersWrite = auth.CustomersWrite
	AnalyticsRead  = auth.AnalyticsRead
	AnalyticsWrite = auth.AnalyticsWrite
	SourcesRead    = auth.SourcesRead
	SettingsRead   = auth.SettingsRead
	SettingsWrite  = auth.SettingsWrite
)

// routes is every route bottega serves. A test checks that the API router
// registers exactly the APIKey routes listed here.
var routes = []Route{
	{"GET", "/healthz", Public, "", ""},
	{"GET", "/metrics", Public, "", ""},
	{"GET", "/openapi.json", Public, "", ""},

	{"POST", "/v1/batch", WriteKey, "", ""},
	{"POST", "/v1/identify", WriteKey, "", "identify"},
	{"POST", "/v1/track", WriteKey, "", "track"},
	{"POST", "/v1/page", WriteKey, "", "page"},
	{"POST", "/v1/screen", WriteKey, "", "screen"},
	{"POST", "/v1/group", WriteKey, "", "group"},
	{"POST", "/v1/alias", WriteKey, "", "alias"},

	{"GET", "/api/v1/stats", APIKey, PipelineRead, ""},
	{"GET", "/api/v1/profiles", APIKey, CustomersRead, ""},
	{"GET", "/api/v1/profiles/lookup", APIKey, CustomersRead, ""},
	{"GET", "/api/v1/profiles/{id}", APIKey, CustomersRead, ""},
	{"GET", "/api/v1/profiles/{id}/timeline", APIKey, CustomersRead, ""},
	{"GET", "/api/v1/profiles/{id}/orders", APIKey, CustomersRead, ""},
	{"GET", "/api/v1/profiles/{id}/merges", APIKey, CustomersRead, ""},
	{"POST", "/api/v1/merges/{id}/undo", APIKey, CustomersWrite, ""},
	{"GET", "/api/v1/identity/rules", APIKey, SettingsRead, ""},
	{"PUT", "/api/v1/identity/rules", APIKey, SettingsWrite, ""},
	{"GET", "/api/v1/sources", APIKey, SourcesRead, ""},
	{"GET", "/api/v1/quarantine", APIKey, PipelineRead, ""},
	{"GET", "/api/v1/kpis", APIKey, AnalyticsRead, ""},
	{"GET", "/api/v1/cohorts", APIKey, AnalyticsRead, ""},
	{"GET", "/api/v1/costs", APIKey, AnalyticsRead, ""},
	{"POST", "/api/v1/costs", APIKey, AnalyticsWrite, ""},
	{"GET", "/api/v1/rfm", APIKey, AnalyticsRead, ""},
	{"GET", "/api/v1/personas", APIKey, AnalyticsRead, ""},
	{"GET", "/api/v1/nps", APIKey, AnalyticsRead, ""},
	{"POST", "/api/v1/predictions/fit", APIKey, AnalyticsWrite, ""},
	{"GET", "/api/v1/predictions/model", APIKey, AnalyticsRead, ""},
	{"GET", "/api/v1/predictions/holdout", APIKey, AnalyticsRead, ""},
}

// Routes returns the route table, for documentation and tests.
func Routes() []Route { return append([]Route(nil), routes...) }
