package event

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/uuid"
)

// Request is a parsed ingestion request: its write key (when it carried one
// in the body), its accepted events and its quarantined ones.
type Request struct {
	WriteKey    string
	Events      []Event
	Quarantined []Quarantined
}

// Parser turns request bodies into events. A Parser reuses its buffers and is
// not safe for concurrent use; make one per goroutine.
type Parser struct {
	limits  Limits
	strict  *jsontext.Decoder
	lenient *jsontext.Decoder
	enc     *jsontext.Encoder
	buf     bytes.Buffer
	scratch []byte
	f       fields
}

// NewParser returns a Parser enforcing limits.
func NewParser(limits Limits) *Parser {
	return &Parser{
		limits:  limits,
		strict:  jsontext.NewDecoder(bytes.NewReader(nil)),
		lenient: jsontext.NewDecoder(bytes.NewReader(nil), lenientOpts),
		enc:     jsontext.NewEncoder(io.Discard),
	}
}

// lenientOpts read any syntactically valid JSON, replacing invalid UTF-8 with
// U+FFFD and tolerating repeated member names: they are used to find the
// shape of a request before its events are judged one by one.
var lenientOpts = json.JoinOptions(jsontext.AllowInvalidUTF8(true), jsontext.AllowDuplicateNames(true))

func malformed(err error) error {
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		return fault.Wrap(err, fault.Invalid, "malformed JSON at byte %d: %v", se.ByteOffset, se.Err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fault.New(fault.Invalid, "malformed JSON: the body ends before the JSON does")
	}
	return fault.New(fault.Invalid, "malformed JSON: %v", err)
}

// ParseBatch parses a /v1/batch body received at now.
func (p *Parser) ParseBatch(body []byte, now time.Time) (*Request, error) {
	req, err := p.parseBatch(body, now, nil)
	var se *jsontext.SyntacticError
	if errors.As(err, &se) && strings.Contains(se.Err.Error(), "max depth") {
		// An event nested deeper than the JSON reader goes (10,000 levels)
		// must not cost its neighbours: set such events aside by their
		// bracket structure alone and read the rest.
		if masked, deep, ok := maskDeep(body, p.limits.MaxDepth); ok {
			return p.parseBatch(masked, now, deep)
		}
	}
	return req, err
}

// parseBatch parses a batch body; deep holds, by index, the bytes of
// elements replaced in body because they nest too deep.
func (p *Parser) parseBatch(body []byte, now time.Time, deep map[int][]byte) (*Request, error) {
	if err := checkSize(body, p.limits.MaxBatchBytes); err != nil {
		return nil, err
	}
	d := p.lenient
	d.Reset(bytes.NewReader(body), lenientOpts)
	tok, err := d.ReadToken()
	if err != nil {
		return nil, malformed(err)
	}
	if tok.Kind() != '{' {
		return nil, fault.New(fault.Invalid, `a batch body must be a JSON object {"batch": [...]}`)
	}
	var (
		req                Request
		elems              [][]byte
		haveBatch          bool
		batchCtx, batchInt []byte
		sentAt             string
		seen               = map[string]bool{}
	)
	for d.PeekKind() != '}' {
		tok, err := d.ReadToken()
		if err != nil {
			return nil, malformed(err)
		}
		name := tok.String()
		if seen[name] {
			return nil, fault.New(fault.Invalid, "the body repeats the member %q", name)
		}
		seen[name] = true
		switch name {
		case "batch":
			haveBatch = true
			if d.PeekKind() != '[' {
				if err := d.SkipValue(); err != nil {
					return nil, malformed(err)
				}
				return nil, fault.New(fault.Invalid, "batch must be an array of events")
			}
			if _, err := d.ReadToken(); err != nil {
				return nil, malformed(err)
			}
			for d.PeekKind() != ']' {
				v, err := d.ReadValue()
				if err != nil {
					return nil, malformed(err)
				}
				end := int(d.InputOffset())
				elems = append(elems, body[end-len(v):end])
				if len(elems) > p.limits.MaxBatchEvents {
					return nil, fault.New(fault.TooLarge, "a batch may hold at most %d events", p.limits.MaxBatchEvents)
				}
			}
			if _, err := d.ReadToken(); err != nil {
				return nil, malformed(err)
			}
		case "context", "integrations":
			v, err := d.ReadValue()
			if err != nil {
				return nil, malformed(err)
			}
			if v.Kind() == 'n' {
				continue
			}
			if v.Kind() != '{' {
				return nil, fault.New(fault.Invalid, "batch-level %s must be an object", name)
			}
			end := int(d.InputOffset())
			if name == "context" {
				batchCtx = body[end-len(v) : end]
			} else {
				batchInt = body[end-len(v) : end]
			}
		case "writeKey", "sentAt":
			v, err := d.ReadToken()
			if err != nil {
				return nil, malformed(err)
			}
			if v.Kind() == '"' {
				if name == "writeKey" {
					req.WriteKey = v.String()
				} else {
					sentAt = v.String()
				}
			}
		default:
			if err := d.SkipValue(); err != nil {
				return nil, malformed(err)
			}
		}
	}
	if _, err := d.ReadToken(); err != nil {
		return nil, malformed(err)
	}
	if _, err := d.ReadToken(); err != io.EOF {
		return nil, fault.New(fault.Invalid, "malformed JSON: unexpected data after the batch object")
	}
	if !haveBatch {
		return nil, fault.New(fault.Invalid, `the body has no "batch" array`)
	}
	if len(elems) == 0 {
		return nil, fault.New(fault.Invalid, "the batch is empty")
	}
	for i, elem := range elems {
		if raw, ok := deep[i]; ok {
			req.Quarantined = append(req.Quarantined, Quarantined{Index: i, Reason: TooDeep, Raw: raw,
				Detail: fmt.Sprintf("the event nests deeper than %d levels", p.limits.MaxDepth)})
			continue
		}
		ev, q := p.event(i, elem, "", batchCtx, batchInt, sentAt, now)
		if q != nil {
			req.Quarantined = append(req.Quarantined, *q)
			continue
		}
		req.Events = append(req.Events, ev)
	}
	return &req, nil
}

// checkSize refuses an empty body or one over limit bytes.
func checkSize(body []byte, limit int) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return fault.New(fault.Invalid, "the body is empty")
	}
	if len(body) > limit {
		return fault.New(fault.TooLarge, "the body is larger than %d bytes", limit)
	}
	return nil
}

// ParseSingle parses the body of a single-event call (/v1/track…) of type typ
// received at now.
func (p *Parser) ParseSingle(typ string, body []byte, now time.Time) (*Request, error) {
	body = bytes.TrimSpace(body)
	if err := checkSize(body, p.limits.MaxEventBytes); err != nil {
		return nil, err
	}
	d := p.lenient
	d.Reset(bytes.NewReader(body), lenientOpts)
	v, err := d.ReadValue()
	if err != nil {
		return nil, malformed(err)
	}
	if v.Kind() != '{' {
		return nil, fault.New(fault.Invalid, "the body must be a JSON object")
	}
	if _, err := d.ReadToken(); err != io.EOF {
		return nil, fault.New(fault.Invalid, "malformed JSON: unexpected data after the event")
	}
	req := &Request{}
	ev, q := p.event(0, body, typ, nil, nil, "", now)
	req.WriteKey = p.f.writeKey
	if q != nil {
		req.Quarantined = append(req.Quarantined, *q)
	} else {
		req.Events = append(req.Events, ev)
	}
	return req, nil
}

// fields are the envelope members of one event.
type fields struct {
	typ, messageID, userID, anonymousID, previousID, groupID string
	event, name, timestamp, originalTimestamp, sentAt        string
	writeKey                                                 string
	hasContext, hasIntegrations                              bool
}

// violation is why an event is refused, found while walking it.
type violation struct {
	reason Reason
	detail string
}

func (v *violation) Error() string { return string(v.reason) + ": " + v.detail }

func violate(r Reason, format string, args ...any) error {
	return &violation{reason: r, detail: fmt.Sprintf(format, args...)}
}

// event judges one element of a batch. typ, when not empty, is the type the
// endpoint implies.
func (p *Parser) event(index int, elem []byte, typ string, batchCtx, batchInt []byte, batchSentAt string, now time.Time) (Event, *Quarantined) {
	quarantine := func(r Reason, detail string) (Event, *Quarantined) {
		q := &Quarantined{Index: index, MessageID: p.f.messageID, Type: clip(p.f.typ), Reason: r, Detail: clip(detail), Raw: elem}
		if typ != "" {
			q.Type = typ
		}
		return Event{}, q
	}
	p.f = fields{}
	if len(elem) > p.limits.MaxEventBytes {
		return quarantine(TooLarge, fmt.Sprintf("the event is %d bytes; the limit is %d", len(elem), p.limits.MaxEventBytes))
	}
	if len(elem) == 0 || elem[0] != '{' {
		return quarantine(NotAnObject, "an event must be a JSON object")
	}
	payload, flags := elem, Flags(0)
	err := p.walk(elem)
	var v *violation
	if err != nil && !errors.As(err, &v) || err == nil && bytes.Contains(elem, []byte(`\u0000`)) {
		// Invalid UTF-8, a lone surrogate or a NUL character: replace what no
		// engine can store and judge the cleaned event, unless the damage is
		// in a field that identifies someone.
		clean, damaged, serr := p.sanitize(elem)
		if serr != nil {
			p.f = fields{}
			return quarantine(InvalidField, "malformed event: "+serr.Error())
		}
		if damaged != "" {
			p.f = fields{}
			return quarantine(InvalidIdentifier, damaged+" holds invalid UTF-8 or a NUL character")
		}
		if !bytes.Equal(clean, elem) {
			payload, flags = clean, FlagSanitized
		}
		if err = p.walk(payload); err != nil && !errors.As(err, &v) {
			return quarantine(InvalidField, "malformed event: "+err.Error())
		}
	}
	if v != nil {
		return quarantine(v.reason, v.detail)
	}
	f := &p.f
	if typ != "" {
		f.typ = typ
	}
	switch {
	case f.typ == "":
		return quarantine(UnknownType, "the event has no type")
	case !ValidType(f.typ):
		return quarantine(UnknownType, fmt.Sprintf("type %q is not one of identify, track, page, screen, group, alias", f.typ))
	case f.userID == "" && f.anonymousID == "":
		return quarantine(NoIdentity, "the event has neither userId nor anonymousId")
	case f.typ == Track && f.event == "":
		return quarantine(MissingEvent, "a track call needs an event name")
	case f.typ == Alias && f.previousID == "":
		return quarantine(MissingPreviousID, "an alias call needs previousId")
	case f.typ == Group && f.groupID == "":
		return quarantine(MissingGroupID, "a group call needs groupId")
	}
	ev := Event{
		MessageID:         f.messageID,
		Type:              f.typ,
		UserID:            f.userID,
		AnonymousID:       f.anonymousID,
		PreviousID:        f.previousID,
		GroupID:           f.groupID,
		ReceivedAt:        now,
		OriginalTimestamp: f.timestamp,
		Flags:             flags,
		Payload:           payload,
	}
	if ev.Type == Track {
		ev.Name = f.event
	} else if ev.Type == Page || ev.Type == Screen {
		ev.Name = f.name
	}
	if ev.MessageID == "" {
		ev.MessageID = uuid.Must(uuid.NewV7()).String()
		ev.Flags |= FlagServerMessageID
	}
	if ev.OriginalTimestamp == "" {
		ev.OriginalTimestamp = f.originalTimestamp
	}
	sent := f.sentAt
	if sent == "" {
		sent = batchSentAt
	}
	ev.Timestamp, ev.SentAt, ev.Flags = eventTime(ev.OriginalTimestamp, sent, now, p.limits.MaxFuture, ev.Flags)
	if len(batchCtx) > 0 || len(batchInt) > 0 {
		merged, err := mergeBatchLevel(payload, batchCtx, batchInt)
		if err != nil {
			return quarantine(InvalidField, "cannot merge the batch-level context: "+err.Error())
		}
		ev.Payload = merged
		ev.Flags |= FlagBatchContext
	}
	if !bytes.Equal(ev.Payload, elem) {
		ev.Raw = elem
	}
	return ev, nil
}

// clip shortens s for a message and makes it safe to store anywhere: valid
// UTF-8 without NUL characters.
func clip(s string) string {
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// Paths whose strings identify a person: they are never silently repaired.
var identityPointers = map[jsontext.Pointer]bool{
	"/userId": true, "/anonymousId": true, "/messageId": true, "/previousId": true, "/groupId": true,
	"/type": true, "/event": true,
	"/traits/email": true, "/traits/phone": true, "/context/traits/email": true, "/context/traits/phone": true,
}

// sanitize rewrites an event replacing invalid UTF-8 and lone surrogates with
// U+FFFD and dropping NUL characters, keeping everything else (numbers
// included) byte for byte. damaged names the identity field that needed
// repair, if any.
func (p *Parser) sanitize(elem []byte) (clean []byte, damaged string, err error) {
	d := p.lenient
	d.Reset(bytes.NewReader(elem), lenientOpts)
	p.buf.Reset()
	p.enc.Reset(&p.buf, jsontext.AllowDuplicateNames(true))
	for {
		kind := d.PeekKind()
		if kind == 0 {
			break
		}
		switch kind {
		case '{', '}', '[', ']':
			tok, err := d.ReadToken()
			if err != nil {
				return nil, "", err
			}
			if err := p.enc.WriteToken(tok); err != nil {
				return nil, "", err
			}
		case '"':
			depth := d.StackDepth()
			k, n := d.StackIndex(depth)
			isName := k == '{' && n%2 == 0
			raw, err := d.ReadValue()
			if err != nil {
				return nil, "", err
			}
			out, uerr := jsontext.AppendUnquote(p.scratch[:0], raw)
			p.scratch = out
			if uerr == nil && bytes.IndexByte(out, 0) < 0 {
				if err := p.enc.WriteValue(raw); err != nil {
					return nil, "", err
				}
				continue
			}
			if !isName && identityPointers[d.StackPointer()] && damaged == "" {
				damaged = string(d.StackPointer())[1:]
			}
			s := strings.ToValidUTF8(strings.ReplaceAll(string(out), "\x00", ""), "\uFFFD")
			if err := p.enc.WriteToken(jsontext.String(s)); err != nil {
				return nil, "", err
			}
		default:
			raw, err := d.ReadValue()
			if err != nil {
				return nil, "", err
			}
			if err := p.enc.WriteValue(raw); err != nil {
				return nil, "", err
			}
		}
	}
	if _, err := d.ReadToken(); err != io.EOF {
		return nil, "", fmt.Errorf("unexpected data after the event")
	}
	return bytes.Clone(bytes.TrimSpace(p.buf.Bytes())), damaged, nil
}

// Envelope member names whose spelling must be unambiguous.
var (
	envelopeNames = []string{"type", "messageId", "userId", "anonymousId", "previousId", "groupId", "event", "timestamp", "sentAt", "traits", "properties", "context"}
	traitNames    = []string{"email", "phone"}
)

// walk reads one event with the strict decoder (valid UTF-8, unique names),
// fills p.f with its envelope, and enforces the limits. It returns a
// *violation for a rule the event breaks, or the decoder's error.
func (p *Parser) walk(elem []byte) error {
	err := p.walkEvent(elem)
	var se *jsontext.SyntacticError
	if errors.Is(err, jsontext.ErrDuplicateName) && errors.As(err, &se) {
		return violate(DuplicateKey, "a member name is repeated in the object at %q", se.JSONPointer)
	}
	return err
}

func (p *Parser) walkEvent(elem []byte) error {
	d := p.strict
	d.Reset(bytes.NewReader(elem))
	p.f = fields{}
	if _, err := d.ReadToken(); err != nil {
		return err
	}
	var counts [16]int
	keys := 0
	for d.PeekKind() != '}' {
		name, err := p.name()
		if err != nil {
			return err
		}
		keys++
		if keys > p.limits.MaxKeys {
			return violate(TooManyKeys, "the event has more than %d members", p.limits.MaxKeys)
		}
		countVariants(name, envelopeNames, &counts)
		f := &p.f
		switch name {
		case "type":
			err = p.text(&f.typ, name)
		case "messageId":
			err = p.id(&f.messageID, name)
		case "userId":
			err = p.id(&f.userID, name)
		case "anonymousId":
			err = p.id(&f.anonymousID, name)
		case "previousId":
			err = p.id(&f.previousID, name)
		case "groupId":
			err = p.id(&f.groupID, name)
		case "event":
			err = p.text(&f.event, name)
		case "name":
			err = p.text(&f.name, name)
		case "timestamp":
			err = p.time(&f.timestamp)
		case "originalTimestamp":
			err = p.time(&f.originalTimestamp)
		case "sentAt":
			err = p.time(&f.sentAt)
		case "writeKey":
			err = p.text(&f.writeKey, name)
		case "context":
			f.hasContext = true
			err = p.member(name, ctxContext)
		case "traits":
			err = p.member(name, ctxTraits)
		case "properties", "integrations":
			f.hasIntegrations = f.hasIntegrations || name == "integrations"
			err = p.member(name, ctxObject)
		default:
			err = p.value(ctxOther)
		}
		if err != nil {
			return err
		}
	}
	if err := ambiguous(envelopeNames, &counts, ""); err != nil {
		return err
	}
	if _, err := d.ReadToken(); err != nil {
		return err
	}
	if _, err := d.ReadToken(); err != io.EOF {
		return violate(InvalidField, "unexpected data after the event")
	}
	return nil
}

// countVariants counts, for each of names, the members spelt like it but for
// letter case.
func countVariants(name string, names []string, counts *[16]int) {
	for i, n := range names {
		if len(n) == len(name) && strings.EqualFold(n, name) {
			counts[i]++
		}
	}
}

func ambiguous(names []string, counts *[16]int, where string) error {
	for i, n := range names {
		if counts[i] > 1 {
			return violate(AmbiguousKey, "%s%q is spelt more than once with different letter case", where, n)
		}
	}
	return nil
}

// name reads an object member name and checks its length.
func (p *Parser) name() (string, error) {
	raw, err := p.strict.ReadValue()
	if err != nil {
		return "", err
	}
	var name string
	if bytes.IndexByte(raw, '\\') < 0 {
		name = string(raw[1 : len(raw)-1])
	} else {
		out, err := jsontext.AppendUnquote(p.scratch[:0], raw)
		if err != nil {
			return "", err
		}
		p.scratch = out
		name = string(out)
	}
	if len(name) > p.limits.MaxKeyBytes {
		return "", violate(KeyTooLong, "a member name is %d bytes; the limit is %d", len(name), p.limits.MaxKeyBytes)
	}
	return name, nil
}

// text reads a string member into dst; null leaves it empty.
func (p *Parser) text(dst *string, name string) error {
	raw, err := p.strict.ReadValue()
	if err != nil {
		return err
	}
	switch raw.Kind() {
	case 'n':
		return nil
	case '"':
		s, err := unquote(raw)
		if err != nil {
			return err
		}
		*dst = s
		return nil
	}
	return violate(InvalidField, "%s must be a string", name)
}

// time reads a timestamp member. Anything but a string (an epoch number,
// say) is kept as its JSON text, which then fails to parse as a time: the
// event falls back to its receipt time instead of being refused.
func (p *Parser) time(dst *string) error {
	raw, err := p.strict.ReadValue()
	if err != nil {
		return err
	}
	switch raw.Kind() {
	case 'n':
	case '"':
		*dst, err = unquote(raw)
	default:
		*dst = clip(string(raw))
	}
	return err
}

// id reads an identifier member: a string, or a number kept as written.
func (p *Parser) id(dst *string, name string) error {
	raw, err := p.strict.ReadValue()
	if err != nil {
		return err
	}
	var s string
	switch raw.Kind() {
	case 'n':
		return nil
	case '"':
		if s, err = unquote(raw); err != nil {
			return err
		}
	case '0':
		s = string(raw)
	default:
		return violate(InvalidIdentifier, "%s must be a string", name)
	}
	s = strings.TrimSpace(s)
	if len(s) > p.limits.MaxIDBytes {
		return violate(InvalidIdentifier, "%s is %d bytes; the limit is %d", name, len(s), p.limits.MaxIDBytes)
	}
	if strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == utf8.RuneError }) >= 0 {
		return violate(InvalidIdentifier, "%s holds control characters", name)
	}
	*dst = s
	return nil
}

func unquote(raw []byte) (string, error) {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), nil
	}
	out, err := jsontext.AppendUnquote(nil, raw)
	return string(out), err
}

// Where a nested value sits, for the checks that depend on it.
type position int

const (
	ctxOther   position = iota
	ctxObject           // must be an object (or null)
	ctxContext          // the event's context
	ctxTraits           // traits or context.traits
)

// member reads a member that must be an object or null.
func (p *Parser) member(name string, c position) error {
	switch p.strict.PeekKind() {
	case '{':
		return p.value(c)
	case 'n':
		_, err := p.strict.ReadValue()
		return err
	}
	if err := p.strict.SkipValue(); err != nil {
		return err
	}
	return violate(InvalidField, "%s must be an object", name)
}

// value walks any value, enforcing depth, member count, name length and
// number range, and the unambiguous spelling of e-mail and phone traits.
func (p *Parser) value(c position) error {
	d := p.strict
	switch d.PeekKind() {
	case '{':
		if _, err := d.ReadToken(); err != nil {
			return err
		}
		if d.StackDepth() > p.limits.MaxDepth {
			return violate(TooDeep, "the event nests deeper than %d levels", p.limits.MaxDepth)
		}
		var counts [16]int
		keys := 0
		for d.PeekKind() != '}' {
			name, err := p.name()
			if err != nil {
				return err
			}
			keys++
			if keys > p.limits.MaxKeys {
				return violate(TooManyKeys, "an object at %q has more than %d members", d.StackPointer(), p.limits.MaxKeys)
			}
			child := ctxOther
			switch c {
			case ctxTraits:
				countVariants(name, traitNames, &counts)
			case ctxContext:
				if name == "traits" {
					child = ctxTraits
				}
			}
			if err := p.value(child); err != nil {
				return err
			}
		}
		if c == ctxTraits {
			if err := ambiguous(traitNames, &counts, "trait "); err != nil {
				return err
			}
		}
		_, err := d.ReadToken()
		return err
	case '[':
		if _, err := d.ReadToken(); err != nil {
			return err
		}
		if d.StackDepth() > p.limits.MaxDepth {
			return violate(TooDeep, "the event nests deeper than %d levels", p.limits.MaxDepth)
		}
		for d.PeekKind() != ']' {
			if err := p.value(ctxOther); err != nil {
				return err
			}
		}
		_, err := d.ReadToken()
		return err
	case '0':
		raw, err := d.ReadValue()
		if err != nil {
			return err
		}
		if len(raw) > 15 || bytes.ContainsAny(raw, "eE") {
			if f, err := strconv.ParseFloat(string(raw), 64); err != nil && math.IsInf(f, 0) {
				return violate(NumberOutOfRange, "the number at %q is beyond the range of a 64-bit float", d.StackPointer())
			}
		}
		return nil
	case 0:
		_, err := d.ReadValue() // surfaces the decoder's error
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return err
	default:
		_, err := d.ReadValue()
		return err
	}
}

// mergeBatchLevel merges batch-level context and integrations into an event:
// members the event sets itself win.
func mergeBatchLevel(payload, batchCtx, batchInt []byte) ([]byte, error) {
	var ev map[string]jsontext.Value
	if err := json.Unmarshal(payload, &ev, jsontext.AllowDuplicateNames(true)); err != nil {
		return nil, err
	}
	for name, batch := range map[string][]byte{"context": batchCtx, "integrations": batchInt} {
		if len(batch) == 0 {
			continue
		}
		own, ok := ev[name]
		if !ok || own.Kind() == 'n' {
			ev[name] = jsontext.Value(batch)
			continue
		}
		var a, b map[string]jsontext.Value
		if err := json.Unmarshal(batch, &a, lenientOpts); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(own, &b); err != nil {
			return nil, err
		}
		for k, v := range a {
			if _, set := b[k]; !set {
				b[k] = v
			}
		}
		merged, err := json.Marshal(b, json.Deterministic(true))
		if err != nil {
			return nil, err
		}
		ev[name] = merged
	}
	return json.Marshal(ev, json.Deterministic(true))
}

// Time layouts accepted for timestamps, most common first.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// ParseTime reads an ISO 8601 timestamp; a time without zone is UTC.
func ParseTime(s string) (time.Time, bool) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// eventTime computes an event's time from the client's timestamp and sentAt,
// received at now, following Segment: receivedAt − (sentAt − timestamp).
func eventTime(timestamp, sentAt string, now time.Time, maxFuture time.Duration, flags Flags) (ts, sent time.Time, _ Flags) {
	ts = now
	if timestamp != "" {
		if t, ok := ParseTime(timestamp); ok {
			ts = t
		} else {
			flags |= FlagBadTimestamp
		}
	}
	if sentAt != "" {
		if s, ok := ParseTime(sentAt); ok {
			sent = s
			if timestamp != "" && flags&FlagBadTimestamp == 0 {
				ts = now.Add(-s.Sub(ts))
				flags |= FlagSkewCorrected
			}
		}
	}
	if ts.After(now.Add(maxFuture)) {
		ts = now
		flags |= FlagClamped
	}
	return ts.Truncate(time.Millisecond), sent, flags
}

// maskDeep follows the bracket structure of a batch body without a depth
// limit and replaces each element of its top-level "batch" array that nests
// deeper than maxDepth levels by 0, returning the elements' bytes by index.
// ok is false when the structure cannot be followed (the body is then
// malformed anyway).
func maskDeep(body []byte, maxDepth int) (masked []byte, deep map[int][]byte, ok bool) {
	var (
		stack      []byte
		member     string // the member of the top-level object being read
		lastString string
		inBatch    bool
		index      = -1 // index of the current element of the batch
		start      = -1 // its first byte, or -1 between elements
		depth      int  // its deepest nesting
	)
	deep = map[int][]byte{}
	var spans [][2]int
	end := func(i int) {
		if start >= 0 && depth > maxDepth {
			deep[index] = body[start:i]
			spans = append(spans, [2]int{start, i})
		}
		start = -1
	}
	begin := func(i int) {
		if inBatch && len(stack) == 2 && start < 0 {
			index++
			start, depth = i, 0
		}
	}
	for i := 0; i < len(body); i++ {
		switch c := body[i]; c {
		case ' ', '\t', '\n', '\r':
		case '"':
			begin(i)
			j := i + 1
			for j < len(body) && body[j] != '"' {
				if body[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(body) {
				return nil, nil, false
			}
			if len(stack) == 1 {
				lastString = string(body[i+1 : j])
			}
			i = j
		case ':':
			if len(stack) == 1 {
				member = lastString
			}
		case '{', '[':
			begin(i)
			stack = append(stack, c)
			if len(stack) == 2 && c == '[' && member == "batch" {
				inBatch = true
			}
			if inBatch && len(stack) > 2 {
				depth = max(depth, len(stack)-2)
			}
		case '}', ']':
			if len(stack) == 0 || (c == '}') != (stack[len(stack)-1] == '{') {
				return nil, nil, false
			}
			stack = stack[:len(stack)-1]
			switch {
			case inBatch && len(stack) == 2:
				end(i + 1)
			case inBatch && len(stack) == 1:
				end(i)
				inBatch = false
			}
		case ',':
			if inBatch && len(stack) == 2 {
				end(i)
			}
		default:
			begin(i)
		}
	}
	if len(stack) != 0 || len(spans) == 0 {
		return nil, nil, false
	}
	var b bytes.Buffer
	b.Grow(len(body))
	last := 0
	for _, sp := range spans {
		b.Write(body[last:sp[0]])
		b.WriteByte('0')
		last = sp[1]
	}
	b.Write(body[last:])
	return b.Bytes(), deep, true
}
