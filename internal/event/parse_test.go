package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/fault"
)

var now = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func parseBatch(t *testing.T, body string) (*Request, error) {
	t.Helper()
	return NewParser(DefaultLimits()).ParseBatch([]byte(body), now)
}

// Whole-request refusals: the body is not a batch at all.
func TestParseBatchRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		code       fault.Code
		msg        string
	}{
		{"empty", "", fault.Invalid, "empty"},
		{"whitespace", "  \n ", fault.Invalid, "empty"},
		{"truncated", `{"batch":[{"type":"track"`, fault.Invalid, "malformed JSON"},
		{"trailing garbage", `{"batch":[{"type":"track","userId":"u","event":"x"}]} x`, fault.Invalid, "malformed JSON"},
		{"NaN", `{"batch":[{"a":NaN}]}`, fault.Invalid, "malformed JSON"},
		{"single quotes", `{'batch':[]}`, fault.Invalid, "malformed JSON"},
		{"comment", `{"batch":[] /* x */}`, fault.Invalid, "malformed JSON"},
		{"BOM", "\ufeff{\"batch\":[]}", fault.Invalid, "malformed JSON"},
		{"top-level array", `[{"type":"track"}]`, fault.Invalid, "must be a JSON object"},
		{"batch object", `{"batch":{}}`, fault.Invalid, "must be an array"},
		{"empty batch", `{"batch":[]}`, fault.Invalid, "empty"},
		{"no batch", `{"events":[]}`, fault.Invalid, `no "batch"`},
		{"repeated batch", `{"batch":[{}],"batch":[{}]}`, fault.Invalid, "repeats"},
		{"deep nesting, unbalanced", `{"batch":[` + strings.Repeat("[", 10001) + strings.Repeat("]", 10000) + `]}`, fault.Invalid, "malformed JSON"},
		{"too large", `{"batch":[{"x":"` + strings.Repeat("a", 500<<10) + `"}]}`, fault.TooLarge, "larger"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseBatch(t, tc.body)
			if fault.CodeOf(err) != tc.code || !strings.Contains(fault.MessageOf(err), tc.msg) {
				t.Fatalf("error = %v; want %s containing %q", err, tc.code, tc.msg)
			}
		})
	}
}

// Per-event judgements: each element of a batch is accepted or quarantined
// with its reason, and valid neighbours are always kept.
func TestParseEventJudgements(t *testing.T) {
	big := `{"type":"track","userId":"u","event":"x","properties":{"p":"` + strings.Repeat("a", 33<<10) + `"}}`
	deep := `{"type":"track","userId":"u","event":"x","properties":` + strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40) + `}`
	var many strings.Builder
	many.WriteString(`{"type":"track","userId":"u","event":"x","properties":{`)
	for i := range 1001 {
		if i > 0 {
			many.WriteByte(',')
		}
		fmt.Fprintf(&many, `"k%d":1`, i)
	}
	many.WriteString(`}}`)
	for _, tc := range []struct {
		name, event string
		reason      Reason // "" = accepted
	}{
		{"valid track", `{"type":"track","userId":"u1","event":"Order Completed"}`, ""},
		{"anonymous page", `{"type":"page","anonymousId":"a1","name":"Home"}`, ""},
		{"numeric userId", `{"type":"identify","userId":12345678901234567891}`, ""},
		{"not an object", `"track"`, NotAnObject},
		{"array element", `[1,2]`, NotAnObject},
		{"no identity", `{"type":"track","event":"x"}`, NoIdentity},
		{"empty identity", `{"type":"track","event":"x","userId":"  "}`, NoIdentity},
		{"track without event", `{"type":"track","userId":"u"}`, MissingEvent},
		{"null event", `{"type":"track","userId":"u","event":null}`, MissingEvent},
		{"unknown type", `{"type":"purchase","userId":"u"}`, UnknownType},
		{"no type", `{"userId":"u"}`, UnknownType},
		{"alias without previousId", `{"type":"alias","userId":"u"}`, MissingPreviousID},
		{"group without groupId", `{"type":"group","userId":"u"}`, MissingGroupID},
		{"object userId", `{"type":"track","userId":{"a":1},"event":"x"}`, InvalidIdentifier},
		{"duplicate userId", `{"type":"track","userId":"a","userId":"b","event":"x"}`, DuplicateKey},
		{"case-folded userId", `{"type":"track","userId":"a","USERID":"b","event":"x"}`, AmbiguousKey},
		{"case-folded trait email", `{"type":"identify","userId":"a","traits":{"email":"a@x.it","EMAIL":"b@x.it"}}`, AmbiguousKey},
		{"case-folded context trait", `{"type":"track","userId":"a","event":"x","context":{"traits":{"Email":"a@x.it","email":"b@x.it"}}}`, AmbiguousKey},
		{"duplicate nested key", `{"type":"track","userId":"a","event":"x","properties":{"total":1,"total":2}}`, DuplicateKey},
		{"too large", big, TooLarge},
		{"too deep", deep, TooDeep},
		{"too many keys", many.String(), TooManyKeys},
		{"long key", `{"type":"track","userId":"u","event":"x","properties":{"` + strings.Repeat("k", 300) + `":1}}`, KeyTooLong},
		{"number 1e400", `{"type":"track","userId":"u","event":"x","properties":{"total":1e400}}`, NumberOutOfRange},
		{"number -1e400", `{"type":"track","userId":"u","event":"x","properties":{"total":-1e400}}`, NumberOutOfRange},
		{"tiny number", `{"type":"track","userId":"u","event":"x","properties":{"total":1e-400}}`, ""},
		{"big integer", `{"type":"track","userId":"u","event":"x","properties":{"n":12345678901234567891}}`, ""},
		{"traits array", `{"type":"identify","userId":"u","traits":[]}`, InvalidField},
		{"event number", `{"type":"track","userId":"u","event":5}`, InvalidField},
		{"epoch timestamp", `{"type":"track","userId":"u","event":"x","timestamp":1700000000000}`, ""},
		{"messageId too long", `{"type":"track","userId":"u","event":"x","messageId":"` + strings.Repeat("m", 300) + `"}`, InvalidIdentifier},
		{"messageId control", `{"type":"track","userId":"u","event":"x","messageId":"a\nb"}`, InvalidIdentifier},
		{"invalid UTF-8 in userId", "{\"type\":\"track\",\"userId\":\"u\xff\",\"event\":\"x\"}", InvalidIdentifier},
		{"lone surrogate in anonymousId", `{"type":"track","anonymousId":"a\ud800","event":"x"}`, InvalidIdentifier},
		{"NUL in userId", `{"type":"track","userId":"a\u0000b","event":"x"}`, InvalidIdentifier},
		{"NUL in trait email", `{"type":"identify","userId":"u","traits":{"email":"a\u0000@x.it"}}`, InvalidIdentifier},
		{"invalid UTF-8 in a trait", "{\"type\":\"identify\",\"userId\":\"u\",\"traits\":{\"name\":\"Ann\xffa\"}}", ""},
		{"NUL in a property", `{"type":"track","userId":"u","event":"x","properties":{"note":"a\u0000b"}}`, ""},
		{"script in traits", `{"type":"identify","userId":"u","traits":{"name":"<script>alert(1)</script>","x":"'; DROP TABLE profiles;--"}}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			good := `{"type":"track","userId":"neighbour","event":"Kept"}`
			req, err := parseBatch(t, `{"batch":[`+good+`,`+tc.event+`]}`)
			if err != nil {
				t.Fatalf("batch refused: %v", err)
			}
			if len(req.Events) == 0 || req.Events[0].UserID != "neighbour" {
				t.Fatalf("the valid neighbour was not kept: %+v", req.Events)
			}
			if tc.reason == "" {
				if len(req.Quarantined) != 0 || len(req.Events) != 2 {
					t.Fatalf("quarantined %+v; want accepted", req.Quarantined)
				}
				ev := req.Events[1]
				if !json.Valid(ev.Payload) || bytes.Contains(ev.Payload, []byte(`\u0000`)) {
					t.Fatalf("payload not storable JSON: %q", ev.Payload)
				}
				return
			}
			if len(req.Quarantined) != 1 {
				t.Fatalf("accepted %+v; want quarantined as %s", req.Events[1:], tc.reason)
			}
			q := req.Quarantined[0]
			if q.Reason != tc.reason || q.Index != 1 || q.Detail == "" {
				t.Fatalf("quarantined as %s (%s) at %d; want %s at 1", q.Reason, q.Detail, q.Index, tc.reason)
			}
			if !bytes.Equal(q.Raw, []byte(tc.event)) {
				t.Fatalf("quarantine lost the raw bytes")
			}
		})
	}
}

// An event nested deeper than the JSON reader goes is quarantined; its
// neighbours are stored.
func TestParseVeryDeepEvent(t *testing.T) {
	deep := `{"type":"track","userId":"u","event":"x","properties":{"x":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}}`
	req, err := parseBatch(t, `{"batch":[{"type":"track","userId":"a","event":"before"}, `+deep+`, "str[", {"type":"track","userId":"b","event":"after"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Events) != 2 || req.Events[0].Name != "before" || req.Events[1].Name != "after" {
		t.Fatalf("events %+v", req.Events)
	}
	if len(req.Quarantined) != 2 || req.Quarantined[0].Reason != TooDeep || req.Quarantined[0].Index != 1 || string(req.Quarantined[0].Raw) != deep ||
		req.Quarantined[1].Reason != NotAnObject || req.Quarantined[1].Index != 2 {
		t.Fatalf("quarantined %+v", req.Quarantined)
	}
}

func TestSanitisedEventKeepsRawAndNumbers(t *testing.T) {
	raw := "{\"type\":\"identify\",\"userId\":\"u\",\"traits\":{\"name\":\"Ann\xffa\",\"n\":12345678901234567891,\"note\":\"x\\u0000y\"}}"
	req, err := parseBatch(t, `{"batch":[`+raw+`]}`)
	if err != nil || len(req.Events) != 1 {
		t.Fatalf("err %v, events %d", err, len(req.Events))
	}
	ev := req.Events[0]
	if ev.Flags&FlagSanitized == 0 || string(ev.Raw) != raw {
		t.Fatalf("flags %b raw %q", ev.Flags, ev.Raw)
	}
	want := `{"type":"identify","userId":"u","traits":{"name":"Ann` + "\uFFFD" + `a","n":12345678901234567891,"note":"xy"}}`
	if string(ev.Payload) != want {
		t.Fatalf("payload %s\nwant    %s", ev.Payload, want)
	}
}

func TestEventTime(t *testing.T) {
	for _, tc := range []struct {
		name, ts, sent string
		want           time.Time
		flags          Flags
	}{
		{"no timestamp", "", "", now, 0},
		{"historical, no sentAt", "2024-01-05T10:00:00Z", "", time.Date(2024, 1, 5, 10, 0, 0, 0, time.UTC), 0},
		{"device clock a year ahead", "2027-03-10T11:59:00Z", "2027-03-10T12:00:00Z", now.Add(-time.Minute), FlagSkewCorrected},
		{"device clock two years behind", "2024-03-10T11:00:00.5Z", "2024-03-10T12:00:00Z", now.Add(-59*time.Minute - 59500*time.Millisecond), FlagSkewCorrected},
		{"future without sentAt", "2027-03-10T12:00:00Z", "", now, FlagClamped},
		{"an hour ahead without sentAt", "2026-03-10T13:00:00Z", "", now.Add(time.Hour), 0},
		{"garbage", "yesterday", "", now, FlagBadTimestamp},
		{"garbage with sentAt", "yesterday", "2026-03-10T12:00:00Z", now, FlagBadTimestamp},
		{"leap second", "2026-03-10T23:59:60Z", "", now, FlagBadTimestamp},
		{"no zone", "2025-06-01T08:30:00", "", time.Date(2025, 6, 1, 8, 30, 0, 0, time.UTC), 0},
		{"offset", "2025-06-01T10:30:00+02:00", "", time.Date(2025, 6, 1, 8, 30, 0, 0, time.UTC), 0},
		{"date only", "2025-06-01", "", time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), 0},
		{"year 1900", "1900-01-01T00:00:00Z", "", time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, flags := eventTime(tc.ts, tc.sent, now, 24*time.Hour, 0)
			if !got.Equal(tc.want) || flags != tc.flags {
				t.Fatalf("eventTime(%q, %q) = %v flags %b; want %v flags %b", tc.ts, tc.sent, got, flags, tc.want, tc.flags)
			}
		})
	}
}

func TestBatchLevelContextAndSentAt(t *testing.T) {
	req, err := parseBatch(t, `{"sentAt":"2026-03-10T12:00:05Z","context":{"library":{"name":"x"},"ip":"1.2.3.4"},"batch":[
		{"type":"track","userId":"u","event":"x","timestamp":"2026-03-10T12:00:00Z","context":{"ip":"5.6.7.8"}}]}`)
	if err != nil || len(req.Events) != 1 {
		t.Fatalf("err %v events %v", err, req)
	}
	ev := req.Events[0]
	if !ev.Timestamp.Equal(now.Add(-5*time.Second)) || ev.SentAt.IsZero() {
		t.Fatalf("timestamp %v sentAt %v", ev.Timestamp, ev.SentAt)
	}
	var got struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(ev.Payload, &got); err != nil {
		t.Fatal(err)
	}
	if got.Context["ip"] != "5.6.7.8" || got.Context["library"] == nil || ev.Raw == nil {
		t.Fatalf("merged context %v, raw kept %v", got.Context, ev.Raw != nil)
	}
}

func TestParseSingle(t *testing.T) {
	p := NewParser(DefaultLimits())
	req, err := p.ParseSingle(Track, []byte(`{"type":"identify","userId":"u","event":"Clicked","writeKey":"k"}`), now)
	if err != nil || len(req.Events) != 1 || req.Events[0].Type != Track || req.WriteKey != "k" {
		t.Fatalf("err %v req %+v", err, req)
	}
	if req.Events[0].MessageID == "" || req.Events[0].Flags&FlagServerMessageID == 0 {
		t.Fatalf("no server messageId")
	}
	if _, err := p.ParseSingle(Track, []byte(`{"userId":"u","event":"`+strings.Repeat("a", 33<<10)+`"}`), now); !fault.Is(err, fault.TooLarge) {
		t.Fatalf("oversize single event: %v", err)
	}
	req, err = p.ParseSingle(Track, []byte(`{"userId":"u"}`), now)
	if err != nil || len(req.Quarantined) != 1 || req.Quarantined[0].Reason != MissingEvent {
		t.Fatalf("err %v req %+v", err, req)
	}
}
