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
	eventType  string // for ingestion routes: the Segment call type ("" for batch)
}

// routes is every route bottega serves. A test checks that the API router
// registers exactly the APIKey routes listed here.
var routes = []Route{
	{"GET", "/healthz", Public, ""},
	{"GET", "/metrics", Public, ""},
	{"GET", "/openapi.json", Public, ""},

	{"POST", "/v1/batch", WriteKey, ""},
	{"POST", "/v1/identify", WriteKey, "identify"},
	{"POST", "/v1/track", WriteKey, "track"},
	{"POST", "/v1/page", WriteKey, "page"},
	{"POST", "/v1/screen", WriteKey, "screen"},
	{"POST", "/v1/group", WriteKey, "group"},
	{"POST", "/v1/alias", WriteKey, "alias"},

	{"GET", "/api/v1/stats", APIKey, ""},
	{"GET", "/api/v1/profiles", APIKey, ""},
	{"GET", "/api/v1/profiles/lookup", APIKey, ""},
	{"GET", "/api/v1/profiles/{id}", APIKey, ""},
	{"GET", "/api/v1/profiles/{id}/timeline", APIKey, ""},
	{"GET", "/api/v1/profiles/{id}/orders", APIKey, ""},
	{"GET", "/api/v1/profiles/{id}/merges", APIKey, ""},
	{"POST", "/api/v1/merges/{id}/undo", APIKey, ""},
	{"GET", "/api/v1/identity/rules", APIKey, ""},
	{"PUT", "/api/v1/identity/rules", APIKey, ""},
	{"GET", "/api/v1/sources", APIKey, ""},
	{"GET", "/api/v1/quarantine", APIKey, ""},
}

// Routes returns the route table, for documentation and tests.
func Routes() []Route { return append([]Route(nil), routes...) }
