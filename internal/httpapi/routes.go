package httpapi

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

// Permission names what a route lets its caller do. Roles and API key scopes
// are sets of permissions.
type Permission string

// The permissions.
const (
	PipelineRead   Permission = "pipeline:read"   // counters, lag, quarantine
	CustomersRead  Permission = "customers:read"  // profiles, timelines, orders (contact details masked without CustomersPII)
	CustomersPII   Permission = "customers:pii"   // contact details (e-mail, phone) unmasked
	CustomersWrite Permission = "customers:write" // undo merges
	AnalyticsRead  Permission = "analytics:read"  // KPIs, NPS, cohorts, RFM, personas, predictions
	AnalyticsWrite Permission = "analytics:write" // costs, model fits
	SourcesRead    Permission = "sources:read"
	SourcesWrite   Permission = "sources:write"
	SettingsRead   Permission = "settings:read" // identity rules
	SettingsWrite  Permission = "settings:write"
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
