package demo

import "time"

// Event is one Segment call of the demo shop and the source that sends it.
type Event struct {
	Person  int       // index of the person it concerns
	Source  string    // channel of the demo source that sends it: web, app, pos or care
	Time    time.Time // event time (UTC, millisecond precision)
	Message Message
}

// JSON returns the event as the Segment call sent to /v1/batch.
func (e *Event) JSON() []byte { return e.AppendJSON(nil) }

// Message is a Segment Tracking API call: identify, track, page or screen.
// Properties and traits are maps: encoding/json writes their keys sorted, so
// the same message always gives the same bytes.
type Message struct {
	Type        string         `json:"type"`
	MessageID   string         `json:"messageId"`
	UserID      string         `json:"userId,omitempty"`
	AnonymousID string         `json:"anonymousId,omitempty"`
	Event       string         `json:"event,omitempty"`
	Name        string         `json:"name,omitempty"`
	Timestamp   string         `json:"timestamp"`
	Traits      map[string]any `json:"traits,omitempty"`
	Properties  map[string]any `json:"properties,omitempty"`
	Context     Context        `json:"context"`
}

// Context is the Segment context the demo fills in.
type Context struct {
	Channel     string         `json:"channel"`
	Library     *Library       `json:"library,omitempty"`
	Locale      string         `json:"locale,omitempty"`
	Timezone    string         `json:"timezone,omitempty"`
	UserAgent   string         `json:"userAgent,omitempty"`
	Page        *Page          `json:"page,omitempty"`
	Campaign    *Campaign      `json:"campaign,omitempty"`
	App         *App           `json:"app,omitempty"`
	Device      *Device        `json:"device,omitempty"`
	OS          *OS            `json:"os,omitempty"`
	Consent     *Consent       `json:"consent,omitempty"`
	Traits      map[string]any `json:"traits,omitempty"`
	ExternalIDs []ExternalID   `json:"externalIds,omitempty"`
}

// Library names the tracking library that sent an event.
type Library struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Page is context.page of web events.
type Page struct {
	Path     string `json:"path"`
	URL      string `json:"url"`
	Title    string `json:"title,omitempty"`
	Referrer string `json:"referrer,omitempty"`
}

// Campaign is context.campaign: the UTM parameters of a landing page.
type Campaign struct {
	Name   string `json:"name"`
	Source string `json:"source"`
	Medium string `json:"medium"`
}

// App is context.app of the mobile app's events.
type App struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Build     string `json:"build"`
	Namespace string `json:"namespace"`
}

// Device is context.device of the mobile app's events.
type Device struct {
	ID           string `json:"id"`
	Manufacturer string `json:"manufacturer"`
	Model        string `json:"model"`
	Type         string `json:"type"`
}

// OS is context.os of the mobile app's events.
type OS struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Consent is Segment's context.consent.
type Consent struct {
	CategoryPreferences map[string]bool `json:"categoryPreferences"`
}

// ExternalID is an entry of context.externalIds.
type ExternalID struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	Collection string `json:"collection"`
	Encoding   string `json:"encoding"`
}

// Item is a product line of an eCommerce v2 event.
type Item struct {
	ProductID   string `json:"product_id"`
	SKU         string `json:"sku"`
	Name        string `json:"name"`
	Category    string `json:"category"`
	Brand       string `json:"brand"`
	Variant     string `json:"variant"`
	Price       Money  `json:"price"`
	Quantity    int    `json:"quantity"`
	Position    int    `json:"position,omitempty"`
	URL         string `json:"url,omitempty"`
	Recommended bool   `json:"recommended,omitempty"`
	Upsell      bool   `json:"upsell,omitempty"`
}

// timestamp formats t as Segment does (ISO 8601, UTC, milliseconds).
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
