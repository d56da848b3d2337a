package csvimport

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/go-json-experiment/json/jsontext"
)

// object writes one JSON object member by member, in the order given, so
// that the same row always gives the same bytes (and the same messageId).
type object struct {
	b []byte
	n int
}

func (o *object) key(k string) {
	if o.n == 0 {
		o.b = append(o.b, '{')
	} else {
		o.b = append(o.b, ',')
	}
	o.n++
	o.b = appendQuote(o.b, k)
	o.b = append(o.b, ':')
}

// str adds a string member; empty values are left out.
func (o *object) str(k, v string) {
	if v == "" {
		return
	}
	o.key(k)
	o.b = appendQuote(o.b, v)
}

// raw adds a member whose value is already JSON (a number, true, an object).
func (o *object) raw(k string, v []byte) {
	if len(v) == 0 {
		return
	}
	o.key(k)
	o.b = append(o.b, v...)
}

// bytes closes the object and returns it; nil when it has no members.
func (o *object) bytes() []byte {
	if o.n == 0 {
		return nil
	}
	return append(o.b, '}')
}

func (o *object) empty() bool { return o.n == 0 }

// appendQuote appends s as a JSON string. Cells are checked for valid UTF-8
// before they get here; should one slip through, its bad bytes become U+FFFD
// rather than breaking the batch.
func appendQuote(b []byte, s string) []byte {
	out, err := jsontext.AppendQuote(b, s)
	if err != nil {
		out, _ = jsontext.AppendQuote(b, []byte(string([]rune(s))))
	}
	return out
}

func jsonBool(v bool) []byte {
	if v {
		return []byte("true")
	}
	return []byte("false")
}

// messageID is the idempotency key of an imported event: "import-" and the
// first 128 bits of a SHA-256 of what the event says. The same content gives
// the same key, so re-importing a file stores nothing twice; a corrected row
// gives a new key.
func messageID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return "import-" + hex.EncodeToString(h.Sum(nil)[:16])
}

// withMessageID returns the event body with "messageId" as its first member.
func withMessageID(body []byte, id string) []byte {
	out := make([]byte, 0, len(body)+64)
	out = append(out, `{"messageId":`...)
	out = appendQuote(out, id)
	out = append(out, ',')
	return append(out, body[1:]...)
}
