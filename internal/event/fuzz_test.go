package event

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/go-json-experiment/json/jsontext"
)

// FuzzParseBatch feeds arbitrary bodies to the batch parser. Whatever the
// input: no panic; a refusal is Invalid or TooLarge; otherwise every element
// of the batch is accounted for exactly once, accepted events are storable
// (valid UTF-8 JSON objects without NUL, identifiers within limits) and
// quarantined ones keep their bytes as received.
func FuzzParseBatch(f *testing.F) {
	for _, seed := range []string{
		`{"batch":[{"type":"track","userId":"u","event":"x"}]}`,
		`{"batch":[{"type":"identify","anonymousId":"a","traits":{"email":"a@b.it","n":12345678901234567891}}]}`,
		`{"batch":[{"type":"track","userId":"u","event":"x","properties":{"t":1e400}}]}`,
		`{"batch":[{"type":"track","userId":"a","USERID":"b","event":"x"}]}`,
		`{"batch":[{"type":"track","userId":"a","userId":"b","event":"x"}]}`,
		"{\"batch\":[{\"type\":\"track\",\"userId\":\"u\xff\",\"event\":\"x\"}]}",
		"{\"batch\":[{\"type\":\"identify\",\"userId\":\"u\",\"traits\":{\"n\":\"a\xffb\",\"z\":\"\\u0000\"}}]}",
		`{"batch":[{"type":"page","anonymousId":"a\ud800"}]}`,
		`{"batch":[` + strings.Repeat(`[`, 40) + strings.Repeat(`]`, 40) + `]}`,
		`{"batch":[{"type":"track","userId":"u","event":"x","properties":` + strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40) + `}]}`,
		`{"sentAt":"2026-01-01T00:00:00Z","context":{"ip":"1.2.3.4"},"batch":[{"type":"track","userId":"u","event":"x","timestamp":"2020-01-01T00:00:00Z"}]}`,
		`{"batch":[1,"x",null,{}]}`,
		`{"batch":[]}`, `[]`, `{`, ``, `{"batch":{}}`,
		`{"batch":[{"type":"alias","userId":"u","previousId":"p"},{"type":"group","userId":"u","groupId":"g"}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		limits := DefaultLimits()
		p := NewParser(limits)
		req, err := p.ParseBatch(body, now)
		if err != nil {
			if c := fault.CodeOf(err); c != fault.Invalid && c != fault.TooLarge {
				t.Fatalf("refusal with code %s: %v", c, err)
			}
			return
		}
		// Count the elements of the batch independently.
		d := jsontext.NewDecoder(bytes.NewReader(body), lenientOpts)
		var elems [][]byte
		d.ReadToken()
		for d.PeekKind() != '}' {
			name, _ := d.ReadToken()
			if name.String() != "batch" {
				d.SkipValue()
				continue
			}
			d.ReadToken()
			for d.PeekKind() != ']' {
				v, err := d.ReadValue()
				if err != nil {
					t.Fatalf("recount: %v", err)
				}
				elems = append(elems, bytes.Clone(v))
			}
			d.ReadToken()
		}
		if len(req.Events)+len(req.Quarantined) != len(elems) {
			t.Fatalf("%d events + %d quarantined for %d elements", len(req.Events), len(req.Quarantined), len(elems))
		}
		seen := map[int]bool{}
		for _, q := range req.Quarantined {
			if seen[q.Index] || q.Index < 0 || q.Index >= len(elems) || !bytes.Equal(q.Raw, elems[q.Index]) {
				t.Fatalf("quarantined %d does not hold its element", q.Index)
			}
			seen[q.Index] = true
			if q.Reason == "" || q.Detail == "" || !utf8.ValidString(q.Detail) || !utf8.ValidString(q.Type) || strings.ContainsRune(q.Detail+q.Type, 0) {
				t.Fatalf("quarantine record not storable: %+v", q)
			}
		}
		for _, e := range req.Events {
			if !utf8.Valid(e.Payload) || bytes.Contains(e.Payload, []byte(`\u0000`)) || !json.Valid(e.Payload) || e.Payload[0] != '{' {
				t.Fatalf("payload not storable: %q", e.Payload)
			}
			for _, id := range []string{e.MessageID, e.UserID, e.AnonymousID, e.Type, e.Name} {
				if !utf8.ValidString(id) || strings.ContainsRune(id, 0) {
					t.Fatalf("identifier not storable: %q", id)
				}
			}
			if e.MessageID == "" || len(e.MessageID) > limits.MaxIDBytes || e.UserID == "" && e.AnonymousID == "" || !ValidType(e.Type) {
				t.Fatalf("accepted an invalid event: %+v", e)
			}
			if e.Raw != nil && bytes.Equal(e.Raw, e.Payload) {
				t.Fatal("raw kept although identical")
			}
		}
	})
}
