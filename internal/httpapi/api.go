package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/directory"
	"github.com/bottega-crm/bottega/internal/event"
	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/identity"
	"github.com/bottega-crm/bottega/internal/order"
	"github.com/bottega-crm/bottega/internal/process"
	"github.com/bottega-crm/bottega/internal/profile"
	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
)

// GetHeaders lets the API framework send Retry-After with a Problem.
func (p *Problem) GetHeaders() http.Header {
	h := http.Header{}
	if p.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int((p.retryAfter+time.Second-1)/time.Second)))
	}
	return h
}

// server holds what the API operations use.
type server struct {
	Deps

	perms map[string]Permission // of every API operation, from the route table

	mu      sync.Mutex
	rules   *identity.Rules // the identity rules, read at most every rulesTTL
	rulesAt time.Time
}

// rulesTTL is how long the API trusts the identity rules it read: rules
// replaced on another node apply here within it.
const rulesTTL = 2 * time.Second

func (s *server) fail(err error) error { return problem(s.Logger, err) }

func newAPI(mux *http.ServeMux, d Deps) huma.API {
	config := huma.DefaultConfig("bottega", d.Version)
	config.Info.Description = "The JSON API of bottega, the self-hosted retail CRM. " +
		"Authenticate with `Authorization: Bearer <API key>` (create one with `bottega apikey create NAME`). " +
		"Every operation needs a permission (see the apiKey security scheme); without it the answer is 403. " +
		"Errors are RFC 9457 problem documents with a `code`."
	config.OpenAPIPath = "/openapi"
	config.DocsPath = ""
	config.SchemasPath = ""
	config.CreateHooks = nil
	config.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"apiKey":   {Type: "http", Scheme: "bearer", Description: scopesDescription()},
		"writeKey": {Type: "http", Scheme: "basic", Description: "A source write key as the user name, empty password."},
	}
	api := humago.New(mux, config)
	s := &server{Deps: d, perms: routePermissions()}
	api.UseMiddleware(s.authenticate)
	sec := []map[string][]string{{"apiKey": {}}}
	reg := func(op huma.Operation) huma.Operation {
		op.Security = sec
		op.Errors = []int{400, 401, 403, 404, 503}
		if need := s.perms[op.Method+" "+op.Path]; need != "" {
			op.Description = strings.TrimSpace(op.Description + "\n\nNeeds the `" + string(need) + "` permission.")
		}
		return op
	}
	huma.Register(api, reg(huma.Operation{OperationID: "get-stats", Method: http.MethodGet, Path: "/api/v1/stats", Tags: []string{"pipeline"},
		Summary: "Pipeline counters and processing lag"}), s.stats)
	huma.Register(api, reg(huma.Operation{OperationID: "search-profiles", Method: http.MethodGet, Path: "/api/v1/profiles", Tags: []string{"profiles"},
		Summary: "Search profiles by name, e-mail, phone or any identifier", Description: "Without q, lists every profile, most recently seen first. Paged with cursor."}), s.search)
	huma.Register(api, reg(huma.Operation{OperationID: "lookup-profile", Method: http.MethodGet, Path: "/api/v1/profiles/lookup", Tags: []string{"profiles"},
		Summary: "Find the profile holding an identifier", Description: "type is user_id, email, phone, anonymous_id, loyalty_card, pos_customer_id or a custom type; the value is normalised as on ingestion."}), s.lookup)
	huma.Register(api, reg(huma.Operation{OperationID: "get-profile", Method: http.MethodGet, Path: "/api/v1/profiles/{id}", Tags: []string{"profiles"},
		Summary: "Get a profile", Description: "A profile merged into another returns the surviving profile (its id differs from the one asked for; Content-Location names it)."}), s.getProfile)
	huma.Register(api, reg(huma.Operation{OperationID: "get-timeline", Method: http.MethodGet, Path: "/api/v1/profiles/{id}/timeline", Tags: []string{"profiles"},
		Summary: "A profile's events across all channels, newest first"}), s.timeline)
	huma.Register(api, reg(huma.Operation{OperationID: "get-orders", Method: http.MethodGet, Path: "/api/v1/profiles/{id}/orders", Tags: []string{"profiles"},
		Summary: "A profile's orders with their items and refunds, newest first"}), s.orders)
	huma.Register(api, reg(huma.Operation{OperationID: "get-merges", Method: http.MethodGet, Path: "/api/v1/profiles/{id}/merges", Tags: []string{"identity"},
		Summary: "Merges of a profile and identifiers the rules kept off it"}), s.merges)
	huma.Register(api, reg(huma.Operation{OperationID: "undo-merge", Method: http.MethodPost, Path: "/api/v1/merges/{id}/undo", Tags: []string{"identity"},
		Summary: "Undo a merge", Description: "Restores both profiles with their identities, events, traits and orders; the pair is not merged again automatically."}), s.undo)
	huma.Register(api, reg(huma.Operation{OperationID: "get-identity-rules", Method: http.MethodGet, Path: "/api/v1/identity/rules", Tags: []string{"identity"},
		Summary: "Identity resolution rules"}), s.getRules)
	huma.Register(api, reg(huma.Operation{OperationID: "put-identity-rules", Method: http.MethodPut, Path: "/api/v1/identity/rules", Tags: []string{"identity"},
		Summary: "Replace the identity resolution rules", Description: "They apply to events processed from then on. Tightening limits does not split profiles already merged."}), s.putRules)
	huma.Register(api, reg(huma.Operation{OperationID: "list-sources", Method: http.MethodGet, Path: "/api/v1/sources", Tags: []string{"pipeline"},
		Summary: "Event sources"}), s.sources)
	huma.Register(api, reg(huma.Operation{OperationID: "list-quarantine", Method: http.MethodGet, Path: "/api/v1/quarantine", Tags: []string{"pipeline"},
		Summary: "The most recent quarantined events with their reasons"}), s.quarantine)
	s.registerSegments(api, reg)
	s.registerNPS(api, reg)
	s.registerKPIs(api, reg)
	s.registerPredictions(api, reg)
	return api
}

type statsOutput struct {
	Body process.Status
}

func (s *server) stats(ctx context.Context, _ *struct{}) (*statsOutput, error) {
	st, err := process.ReadStatus(ctx, s.DB, s.Now())
	if err != nil {
		return nil, s.fail(err)
	}
	return &statsOutput{Body: st}, nil
}

// ProfileView is a profile with everything known about the person.
type ProfileView directory.Summary

type profileOutput struct {
	ContentLocation string `header:"Content-Location"`
	Body            ProfileView
}

func (s *server) view(ctx context.Context, root string) (*profileOutput, error) {
	v, err := directory.Summarize(ctx, s.DB, root, s.BaseCurrency)
	if err != nil {
		return nil, s.fail(err)
	}
	return &profileOutput{ContentLocation: "/api/v1/profiles/" + root, Body: ProfileView(v)}, nil
}

type idInput struct {
	ID string `path:"id" maxLength:"64" doc:"Profile id (a merged-away id resolves to its survivor)"`
}

func (s *server) root(ctx context.Context, id string) (string, error) {
	root, err := identity.Canonical(ctx, s.DB, id)
	if err != nil {
		return "", s.fail(err)
	}
	return root, nil
}

func (s *server) getProfile(ctx context.Context, in *idInput) (*profileOutput, error) {
	root, err := s.root(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return s.view(ctx, root)
}

var identifierType = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

type lookupInput struct {
	Type  string `query:"type" required:"true" doc:"Identifier type: user_id, email, phone, anonymous_id, loyalty_card, pos_customer_id or custom"`
	Value string `query:"value" required:"true" maxLength:"255"`
}

func (s *server) loadRules(ctx context.Context) (*identity.Rules, error) {
	s.mu.Lock()
	r, at := s.rules, s.rulesAt
	s.mu.Unlock()
	if r != nil && time.Since(at) < rulesTTL {
		return r, nil
	}
	loaded, err := identity.LoadRules(ctx, s.DB, s.PhoneRegion)
	if err != nil {
		return nil, s.fail(err)
	}
	s.mu.Lock()
	s.rules, s.rulesAt = &loaded, time.Now()
	s.mu.Unlock()
	return &loaded, nil
}

func (s *server) lookup(ctx context.Context, in *lookupInput) (*profileOutput, error) {
	if !identifierType.MatchString(in.Type) {
		return nil, s.fail(fault.New(fault.Invalid, "identifier type %q is not lower_snake_case", in.Type))
	}
	if (in.Type == identity.Email || in.Type == identity.Phone) && !canSeePII(ctx) {
		return nil, s.fail(fault.New(fault.Forbidden, "looking up by %s needs the %s permission", in.Type, auth.CustomersPII))
	}
	rules, err := s.loadRules(ctx)
	if err != nil {
		return nil, err
	}
	root, err := identity.Lookup(ctx, s.DB, rules, in.Type, in.Value)
	if err != nil {
		return nil, s.fail(err)
	}
	return s.view(ctx, root)
}

type searchInput struct {
	Q      string `query:"q" maxLength:"200" doc:"Words of a name, an e-mail, a phone number, or any identifier value"`
	Limit  int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
	Cursor string `query:"cursor" maxLength:"100" doc:"The next value of the previous page"`
}

type searchOutput struct {
	Body profile.Page
}

func (s *server) search(ctx context.Context, in *searchInput) (*searchOutput, error) {
	q := profile.Query{Text: in.Q, Limit: in.Limit, Cursor: in.Cursor}
	if !canSeePII(ctx) && auth.LooksLikeContact(in.Q) {
		return nil, s.fail(fault.New(fault.Forbidden, "searching by e-mail or phone number needs the %s permission", auth.CustomersPII))
	}
	if strings.TrimSpace(in.Q) != "" {
		rules, err := s.loadRules(ctx)
		if err != nil {
			return nil, err
		}
		types := []string{identity.Email, identity.Phone, identity.UserID, identity.LoyaltyCard, identity.POSCustomerID, identity.AnonymousID}
		if !canSeePII(ctx) { // finding someone by e-mail or phone would tell who is a customer
			types = types[2:]
		}
		for _, typ := range types {
			if root, err := identity.Lookup(ctx, s.DB, rules, typ, in.Q); err == nil {
				q.IDs = append(q.IDs, root)
			} else if !fault.Is(err, fault.NotFound) {
				return nil, s.fail(err)
			}
		}
	}
	page, err := profile.Search(ctx, s.DB, q)
	if err != nil {
		return nil, s.fail(err)
	}
	return &searchOutput{Body: page}, nil
}

// TimelineEvent is one event of a profile's timeline.
type TimelineEvent struct {
	Seq        int64           `json:"seq"`
	Type       string          `json:"type"`
	Event      string          `json:"event,omitempty" doc:"Track event name, or page or screen name"`
	Timestamp  time.Time       `json:"timestamp"`
	ReceivedAt time.Time       `json:"received_at"`
	Channel    string          `json:"channel"`
	SourceID   string          `json:"source_id"`
	MessageID  string          `json:"message_id"`
	Profile    string          `json:"profile" doc:"The member profile the event was attributed to"`
	Payload    json.RawMessage `json:"payload" doc:"The event as received"`
}

type timelineInput struct {
	ID     string `path:"id" maxLength:"64" doc:"Profile id (a merged-away id resolves to its survivor)"`
	Limit  int    `query:"limit" minimum:"1" maximum:"500" default:"50"`
	Before string `query:"before" maxLength:"60" doc:"The next value of the previous page"`
}

type timelineOutput struct {
	Body struct {
		Events []TimelineEvent `json:"events"`
		Next   string          `json:"next,omitempty"`
	}
}

func (s *server) timeline(ctx context.Context, in *timelineInput) (*timelineOutput, error) {
	root, err := s.root(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	var ts, seq int64
	if in.Before != "" {
		a, b, ok := strings.Cut(in.Before, "_")
		ts, err = strconv.ParseInt(a, 10, 64)
		seq2, err2 := strconv.ParseInt(b, 10, 64)
		if !ok || err != nil || err2 != nil {
			return nil, s.fail(fault.New(fault.Invalid, "before %q is not a cursor this API returned", in.Before))
		}
		seq = seq2
	}
	entries, err := profile.Timeline(ctx, s.DB, root, ts, seq, in.Limit+1)
	if err != nil {
		return nil, s.fail(err)
	}
	out := &timelineOutput{}
	out.Body.Events = []TimelineEvent{}
	if len(entries) > in.Limit {
		entries = entries[:in.Limit]
		last := entries[len(entries)-1]
		out.Body.Next = fmt.Sprintf("%d_%d", last.Timestamp.UnixMilli(), last.Seq)
	}
	seqs := make([]int64, len(entries))
	owner := map[int64]string{}
	for i, e := range entries {
		seqs[i] = e.Seq
		owner[e.Seq] = e.Profile
	}
	evs, err := event.NewLog(s.DB).BySeq(ctx, seqs)
	if err != nil {
		return nil, s.fail(err)
	}
	bySeq := map[int64]event.Stored{}
	for _, e := range evs {
		bySeq[e.Seq] = e
	}
	for _, en := range entries {
		e := bySeq[en.Seq]
		body, _ := event.DecodeBody(e.Payload)
		out.Body.Events = append(out.Body.Events, TimelineEvent{
			Seq: e.Seq, Type: e.Type, Event: e.Name, Timestamp: e.Timestamp, ReceivedAt: e.ReceivedAt,
			Channel: body.Channel(e.Channel), SourceID: e.SourceID, MessageID: e.MessageID, Profile: owner[e.Seq], Payload: json.RawMessage(e.Payload),
		})
	}
	return out, nil
}

type ordersInput struct {
	ID     string `path:"id" maxLength:"64" doc:"Profile id (a merged-away id resolves to its survivor)"`
	Limit  int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
	Before int64  `query:"before" doc:"The next value of the previous page"`
}

type ordersOutput struct {
	Body struct {
		Orders []order.Record `json:"orders"`
		Next   int64          `json:"next,omitempty"`
	}
}

func (s *server) orders(ctx context.Context, in *ordersInput) (*ordersOutput, error) {
	root, err := s.root(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	recs, err := order.List(ctx, s.DB, root, in.Before, in.Limit+1)
	if err != nil {
		return nil, s.fail(err)
	}
	out := &ordersOutput{}
	out.Body.Orders = []order.Record{}
	if len(recs) > in.Limit {
		recs = recs[:in.Limit]
		out.Body.Next = recs[len(recs)-1].PlacedAt.UnixMilli()
	}
	out.Body.Orders = append(out.Body.Orders, recs...)
	return out, nil
}

type mergesOutput struct {
	Body struct {
		Merges    []identity.MergeRecord `json:"merges"`
		Decisions []identity.Decision    `json:"decisions" doc:"Identifiers the rules kept off this profile, newest first"`
	}
}

func (s *server) merges(ctx context.Context, in *idInput) (*mergesOutput, error) {
	root, err := s.root(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	out := &mergesOutput{}
	if out.Body.Merges, err = identity.Merges(ctx, s.DB, root); err != nil {
		return nil, s.fail(err)
	}
	if out.Body.Decisions, err = identity.Decisions(ctx, s.DB, root, 100); err != nil {
		return nil, s.fail(err)
	}
	return out, nil
}

type undoInput struct {
	ID string `path:"id" maxLength:"64" doc:"Merge id"`
}

type undoOutput struct {
	Body struct {
		Merge    identity.MergeRecord `json:"merge"`
		Kept     string               `json:"kept_profile_id" doc:"The profile the survivor belongs to"`
		Restored string               `json:"restored_profile_id" doc:"The profile split off again"`
	}
}

func (s *server) undo(ctx context.Context, in *undoInput) (*undoOutput, error) {
	split, err := process.Unmerge(ctx, s.DB, in.ID, s.BaseCurrency, s.Now(), s.Extensions...)
	if err != nil {
		return nil, s.fail(err)
	}
	out := &undoOutput{}
	out.Body.Merge, out.Body.Kept, out.Body.Restored = split.Merge, split.Kept, split.Restored
	out.Body.Merge.UndoneAt = ptr(s.Now().UTC().Truncate(time.Millisecond))
	return out, nil
}

func ptr[T any](v T) *T { return &v }

// RuleDTO is one identifier type's rule as the API shows it.
type RuleDTO struct {
	Type     string `json:"type,omitempty" pattern:"^[a-z][a-z0-9_]{0,63}$"`
	Priority int    `json:"priority" minimum:"1" doc:"1 is the strongest"`
	Limit    int    `json:"limit" minimum:"1" doc:"Identifiers of this type one person may have"`
	Window   string `json:"window,omitempty" doc:"If set (e.g. 168h), the limit counts only identifiers first seen within this window"`
}

// RulesDTO are the identity rules as the API shows them.
type RulesDTO struct {
	Types           []RuleDTO `json:"types"`
	Custom          RuleDTO   `json:"custom" doc:"Rule for identifier types not listed"`
	BlockedValues   []string  `json:"blocked_values" doc:"Values that never identify anyone (compared case-insensitively)"`
	BlockedPatterns []string  `json:"blocked_patterns" doc:"Regular expressions of such values"`
	PhoneRegion     string    `json:"phone_region" doc:"Country assumed for phone numbers without a + prefix"`
}

func rulesDTO(r identity.Rules) RulesDTO {
	conv := func(t identity.TypeRule) RuleDTO {
		d := RuleDTO{Type: t.Type, Priority: t.Priority, Limit: t.Limit}
		if t.Window > 0 {
			d.Window = time.Duration(t.Window).String()
		}
		return d
	}
	out := RulesDTO{Custom: conv(r.Custom), BlockedValues: r.BlockedValues, BlockedPatterns: r.BlockedPatterns, PhoneRegion: r.PhoneRegion}
	for _, t := range r.Types {
		out.Types = append(out.Types, conv(t))
	}
	return out
}

func (d RulesDTO) rules() (identity.Rules, error) {
	conv := func(x RuleDTO) (identity.TypeRule, error) {
		t := identity.TypeRule{Type: x.Type, Priority: x.Priority, Limit: x.Limit}
		if x.Window != "" {
			w, err := time.ParseDuration(x.Window)
			if err != nil || w < 0 {
				return t, fault.New(fault.Invalid, "window %q is not a duration such as 168h", x.Window)
			}
			t.Window = identity.Duration(w)
		}
		return t, nil
	}
	r := identity.Rules{BlockedValues: d.BlockedValues, BlockedPatterns: d.BlockedPatterns, PhoneRegion: d.PhoneRegion}
	var err error
	if r.Custom, err = conv(d.Custom); err != nil {
		return r, err
	}
	for _, x := range d.Types {
		t, err := conv(x)
		if err != nil {
			return r, err
		}
		r.Types = append(r.Types, t)
	}
	return r, r.Compile()
}

type rulesOutput struct {
	Body RulesDTO
}

func (s *server) getRules(ctx context.Context, _ *struct{}) (*rulesOutput, error) {
	r, err := s.loadRules(ctx)
	if err != nil {
		return nil, err
	}
	return &rulesOutput{Body: rulesDTO(*r)}, nil
}

type putRulesInput struct {
	Body RulesDTO
}

func (s *server) putRules(ctx context.Context, in *putRulesInput) (*rulesOutput, error) {
	r, err := in.Body.rules()
	if err != nil {
		return nil, s.fail(err)
	}
	if err := identity.SaveRules(ctx, s.DB, r, s.Now()); err != nil {
		return nil, s.fail(err)
	}
	s.mu.Lock()
	s.rules = nil
	s.mu.Unlock()
	return &rulesOutput{Body: rulesDTO(r)}, nil
}

// SourceDTO is a source as the API shows it (never its key).
type SourceDTO struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Channel   string     `json:"channel"`
	RateLimit int        `json:"rate_limit" doc:"Events per second; 0 is unlimited"`
	KeyPrefix string     `json:"key_prefix"`
	CreatedAt time.Time  `json:"created_at"`
	Disabled  *time.Time `json:"disabled_at,omitempty"`
}

type sourcesOutput struct {
	Body struct {
		Sources []SourceDTO `json:"sources"`
	}
}

func (s *server) sources(ctx context.Context, _ *struct{}) (*sourcesOutput, error) {
	list, err := s.Auth.ListSources(ctx)
	if err != nil {
		return nil, s.fail(err)
	}
	out := &sourcesOutput{}
	out.Body.Sources = []SourceDTO{}
	for _, x := range list {
		out.Body.Sources = append(out.Body.Sources, SourceDTO{ID: x.ID, Name: x.Name, Channel: x.Channel, RateLimit: x.RateLimit, KeyPrefix: x.KeyPrefix, CreatedAt: x.CreatedAt, Disabled: x.DisabledAt})
	}
	return out, nil
}

type quarantineInput struct {
	Limit int `query:"limit" minimum:"1" maximum:"500" default:"50"`
}

// QuarantineDTO is a quarantined event.
type QuarantineDTO struct {
	ID         int64     `json:"id"`
	SourceID   string    `json:"source_id"`
	ReceivedAt time.Time `json:"received_at"`
	MessageID  string    `json:"message_id"`
	Type       string    `json:"type"`
	Reason     string    `json:"reason"`
	Detail     string    `json:"detail"`
	Raw        string    `json:"raw" doc:"The event as received (invalid UTF-8 shown as U+FFFD)"`
}

type quarantineOutput struct {
	Body struct {
		Events []QuarantineDTO `json:"events"`
	}
}

func (s *server) quarantine(ctx context.Context, in *quarantineInput) (*quarantineOutput, error) {
	list, err := event.NewLog(s.DB).Quarantine(ctx, in.Limit)
	if err != nil {
		return nil, s.fail(err)
	}
	out := &quarantineOutput{}
	out.Body.Events = []QuarantineDTO{}
	for _, q := range list {
		out.Body.Events = append(out.Body.Events, QuarantineDTO{ID: q.ID, SourceID: q.SourceID, ReceivedAt: q.ReceivedAt, MessageID: q.MessageID,
			Type: q.Type, Reason: string(q.Reason), Detail: q.Detail, Raw: strings.ToValidUTF8(string(q.Raw), "\uFFFD")})
	}
	return out, nil
}

// documentIngestion adds the Segment Tracking API to the OpenAPI document.
// Those endpoints are served by a hand-written handler (they must be fast
// and answer in Segment's terms), so they are described here by hand.
func documentIngestion(api huma.API) {
	event := &huma.Schema{Type: "object", Description: "A Segment call: type, messageId, userId or anonymousId, and per type event/name, traits, properties, context, timestamp, sentAt.",
		AdditionalProperties: true, Properties: map[string]*huma.Schema{
			"type": {Type: "string", Enum: []any{"identify", "track", "page", "screen", "group", "alias"}}, "messageId": {Type: "string", MaxLength: ptr(255)},
			"userId": {Type: "string"}, "anonymousId": {Type: "string"}, "event": {Type: "string"}, "name": {Type: "string"},
			"traits": {Type: "object"}, "properties": {Type: "object"}, "context": {Type: "object"},
			"timestamp": {Type: "string", Format: "date-time"}, "sentAt": {Type: "string", Format: "date-time"},
			"previousId": {Type: "string"}, "groupId": {Type: "string"},
		}}
	result := &huma.Schema{Type: "object", Properties: map[string]*huma.Schema{
		"success": {Type: "boolean"}, "stored": {Type: "integer"}, "duplicates": {Type: "integer"},
		"quarantined": {Type: "array", Items: &huma.Schema{Type: "object", Properties: map[string]*huma.Schema{
			"index": {Type: "integer"}, "messageId": {Type: "string"}, "reason": {Type: "string"}, "detail": {Type: "string"}}}},
	}}
	responses := map[string]*huma.Response{
		"200": {Description: "Every event is durably stored, recognised as a replay, or quarantined (listed with its reason).", Content: map[string]*huma.MediaType{"application/json": {Schema: result}}},
		"400": {Description: "Malformed JSON, an empty or oversize body; for single calls, an event that was quarantined."},
		"401": {Description: "Missing, unknown or disabled write key."},
		"415": {Description: "Unsupported Content-Type or Content-Encoding."},
		"429": {Description: "The source exceeded its rate limit; see Retry-After."},
		"503": {Description: "Storage is unavailable; nothing was stored; retry."},
	}
	for _, r := range routes {
		if r.Credential != WriteKey {
			continue
		}
		body := event
		summary := "Segment " + r.eventType + " call"
		if r.eventType == "" {
			summary = "Segment batch: up to 500 KB of calls, 32 KB each"
			body = &huma.Schema{Type: "object", Required: []string{"batch"}, Properties: map[string]*huma.Schema{
				"batch": {Type: "array", Items: event, MinItems: ptr(1)}, "context": {Type: "object"}, "sentAt": {Type: "string", Format: "date-time"}, "writeKey": {Type: "string"},
			}}
		}
		api.OpenAPI().AddOperation(&huma.Operation{
			OperationID: "ingest-" + strings.TrimPrefix(r.Path, "/v1/"), Method: r.Method, Path: r.Path, Summary: summary, Tags: []string{"ingestion"},
			Security:    []map[string][]string{{"writeKey": {}}},
			RequestBody: &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{"application/json": {Schema: body}}},
			Responses:   responses,
		})
	}
}
