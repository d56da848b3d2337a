package demo

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
)

// The demo writes its own JSON: half a million events go through
// encoding/json's reflection otherwise, on the same two cores that ingest
// and process them. The output is what encoding/json would write for the
// same values, except that <, > and & are not escaped (a test checks both
// decode to the same value).

// AppendJSON appends the event's Segment call, as JSON, to dst.
func (e *Event) AppendJSON(dst []byte) []byte {
	m := &e.Message
	b := append(dst, `{"type":`...)
	b = appendString(b, m.Type)
	b = append(b, `,"messageId":`...)
	b = appendString(b, m.MessageID)
	b = optString(b, "userId", m.UserID)
	b = optString(b, "anonymousId", m.AnonymousID)
	b = optString(b, "event", m.Event)
	b = optString(b, "name", m.Name)
	b = append(b, `,"timestamp":`...)
	b = appendString(b, m.Timestamp)
	if len(m.Traits) > 0 {
		b = append(b, `,"traits":`...)
		b = appendMap(b, m.Traits)
	}
	if len(m.Properties) > 0 {
		b = append(b, `,"properties":`...)
		b = appendMap(b, m.Properties)
	}
	b = append(b, `,"context":`...)
	b = appendContext(b, &m.Context)
	return append(b, '}')
}

func optString(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

func appendContext(b []byte, c *Context) []byte {
	b = append(b, `{"channel":`...)
	b = appendString(b, c.Channel)
	if c.Library != nil {
		b = append(b, `,"library":{"name":`...)
		b = appendString(b, c.Library.Name)
		b = append(b, `,"version":`...)
		b = appendString(b, c.Library.Version)
		b = append(b, '}')
	}
	b = optString(b, "locale", c.Locale)
	b = optString(b, "timezone", c.Timezone)
	b = optString(b, "userAgent", c.UserAgent)
	if p := c.Page; p != nil {
		b = append(b, `,"page":{"path":`...)
		b = appendString(b, p.Path)
		b = append(b, `,"url":`...)
		b = appendString(b, p.URL)
		b = optString(b, "title", p.Title)
		b = optString(b, "referrer", p.Referrer)
		b = append(b, '}')
	}
	if p := c.Campaign; p != nil {
		b = append(b, `,"campaign":{"name":`...)
		b = appendString(b, p.Name)
		b = append(b, `,"source":`...)
		b = appendString(b, p.Source)
		b = append(b, `,"medium":`...)
		b = appendString(b, p.Medium)
		b = append(b, '}')
	}
	if a := c.App; a != nil {
		b = append(b, `,"app":{"name":`...)
		b = appendString(b, a.Name)
		b = append(b, `,"version":`...)
		b = appendString(b, a.Version)
		b = append(b, `,"build":`...)
		b = appendString(b, a.Build)
		b = append(b, `,"namespace":`...)
		b = appendString(b, a.Namespace)
		b = append(b, '}')
	}
	if d := c.Device; d != nil {
		b = append(b, `,"device":{"id":`...)
		b = appendString(b, d.ID)
		b = append(b, `,"manufacturer":`...)
		b = appendString(b, d.Manufacturer)
		b = append(b, `,"model":`...)
		b = appendString(b, d.Model)
		b = append(b, `,"type":`...)
		b = appendString(b, d.Type)
		b = append(b, '}')
	}
	if o := c.OS; o != nil {
		b = append(b, `,"os":{"name":`...)
		b = appendString(b, o.Name)
		b = append(b, `,"version":`...)
		b = appendString(b, o.Version)
		b = append(b, '}')
	}
	if c.Consent != nil {
		b = append(b, `,"consent":{"categoryPreferences":{`...)
		for i, k := range slices.Sorted(maps.Keys(c.Consent.CategoryPreferences)) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = strconv.AppendBool(b, c.Consent.CategoryPreferences[k])
		}
		b = append(b, '}', '}')
	}
	if len(c.Traits) > 0 {
		b = append(b, `,"traits":`...)
		b = appendMap(b, c.Traits)
	}
	if len(c.ExternalIDs) > 0 {
		b = append(b, `,"externalIds":[`...)
		for i, x := range c.ExternalIDs {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"id":`...)
			b = appendString(b, x.ID)
			b = append(b, `,"type":`...)
			b = appendString(b, x.Type)
			b = append(b, `,"collection":`...)
			b = appendString(b, x.Collection)
			b = append(b, `,"encoding":`...)
			b = appendString(b, x.Encoding)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendMap writes an object with sorted keys. Values are of the types the
// generator uses; any other type is a bug in the generator.
func appendMap(b []byte, m map[string]any) []byte {
	b = append(b, '{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendValue(b, m[k])
	}
	return append(b, '}')
}

func appendValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return appendString(b, x)
	case bool:
		return strconv.AppendBool(b, x)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case float64:
		return strconv.AppendFloat(b, x, 'f', -1, 64)
	case Money:
		return x.append(b)
	case []Item:
		b = append(b, '[')
		for i := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendItem(b, &x[i])
		}
		return append(b, ']')
	case nil:
		return append(b, "null"...)
	}
	panic(fmt.Sprintf("demo: cannot write %T as JSON", v))
}

func appendItem(b []byte, it *Item) []byte {
	b = append(b, `{"product_id":`...)
	b = appendString(b, it.ProductID)
	b = append(b, `,"sku":`...)
	b = appendString(b, it.SKU)
	b = append(b, `,"name":`...)
	b = appendString(b, it.Name)
	b = append(b, `,"category":`...)
	b = appendString(b, it.Category)
	b = append(b, `,"brand":`...)
	b = appendString(b, it.Brand)
	b = append(b, `,"variant":`...)
	b = appendString(b, it.Variant)
	b = append(b, `,"price":`...)
	b = it.Price.append(b)
	b = append(b, `,"quantity":`...)
	b = strconv.AppendInt(b, int64(it.Quantity), 10)
	if it.Position != 0 {
		b = append(b, `,"position":`...)
		b = strconv.AppendInt(b, int64(it.Position), 10)
	}
	b = optString(b, "url", it.URL)
	if it.Recommended {
		b = append(b, `,"recommended":true`...)
	}
	if it.Upsell {
		b = append(b, `,"upsell":true`...)
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string. s must be valid UTF-8: the
// generator's strings all come from its own tables.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
