package event

import (
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Object is a JSON object whose member values are kept as written, numbers
// included, so nothing is rounded on the way through.
type Object map[string]jsontext.Value

// String returns member name as a string: a JSON string, or a number as
// written. ok is false for anything else.
func (o Object) String(name string) (s string, ok bool) {
	return AsString(o[name])
}

// AsString reads a JSON string, or a number as written.
func AsString(v jsontext.Value) (string, bool) {
	switch v.Kind() {
	case '"':
		var s string
		if json.Unmarshal(v, &s) != nil {
			return "", false
		}
		return s, true
	case '0':
		return string(v), true
	}
	return "", false
}

// Object returns member name as an object, or nil.
func (o Object) Object(name string) Object {
	return AsObject(o[name])
}

// AsObject reads a JSON object, or returns nil for anything else.
func AsObject(v jsontext.Value) Object {
	if v.Kind() != '{' {
		return nil
	}
	var o Object
	if json.Unmarshal(v, &o) != nil {
		return nil
	}
	return o
}

// Body is the part of a stored event's payload that processing reads.
// Members of the wrong JSON type are ignored rather than failing the event.
type Body struct {
	Traits     Object // identify and group traits
	Properties Object // track, page and screen properties
	Context    Object
	PreviousID string // alias calls
}

// DecodeBody reads the payload of a stored event.
func DecodeBody(payload []byte) (Body, error) {
	var top struct {
		Traits     jsontext.Value `json:"traits"`
		Properties jsontext.Value `json:"properties"`
		Context    jsontext.Value `json:"context"`
		PreviousID jsontext.Value `json:"previousId"`
	}
	if err := json.Unmarshal(payload, &top); err != nil {
		return Body{}, err
	}
	prev, _ := AsString(top.PreviousID)
	return Body{Traits: AsObject(top.Traits), Properties: AsObject(top.Properties), Context: AsObject(top.Context), PreviousID: prev}, nil
}

// ContextTraits returns context.traits, the traits a track or page call
// carries about its user.
func (b Body) ContextTraits() Object { return b.Context.Object("traits") }

// ExternalID is an entry of context.externalIds.
type ExternalID struct {
	ID, Type, Collection string
}

// ExternalIDs returns context.externalIds, skipping malformed entries.
func (b Body) ExternalIDs() []ExternalID {
	v := b.Context["externalIds"]
	if v.Kind() != '[' {
		return nil
	}
	var raw []jsontext.Value
	if json.Unmarshal(v, &raw) != nil {
		return nil
	}
	var out []ExternalID
	for _, r := range raw {
		o := AsObject(r)
		id, ok1 := o.String("id")
		typ, ok2 := o.String("type")
		if !ok1 || !ok2 {
			continue
		}
		coll, _ := o.String("collection")
		out = append(out, ExternalID{ID: id, Type: typ, Collection: coll})
	}
	return out
}

// Channels an event can come from.
var channels = map[string]bool{"web": true, "app": true, "pos": true, "email": true, "ads": true, "care": true, "import": true}

// Channel returns the channel an event came through: context.channel when it
// names a known channel, else sourceChannel (its source's).
func (b Body) Channel(sourceChannel string) string {
	if c, ok := b.Context.String("channel"); ok && channels[c] {
		return c
	}
	return sourceChannel
}
