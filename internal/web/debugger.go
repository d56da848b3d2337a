package web

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/event"
	"github.com/bottega-crm/bottega/internal/identity"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// The live event debugger: the latest events in the log and the latest
// quarantined ones, polled by htmx every 2 s. Payloads are whatever a
// client sent: they reach the page only as escaped text, shortened, and
// with contact details masked for staff without customers:pii.

const (
	debugEvents     = 50
	debugQuarantine = 20
	previewRunes    = 300
)

type debugData struct {
	Events     []debugEvent
	Quarantine []debugQuarantined
	Paused     bool
	Profiles   bool // the staff member may open profiles
}

type debugEvent struct {
	Seq        int64
	ReceivedAt time.Time
	Source     string
	Type       string
	Name       string
	Processed  bool
	Profile    string // canonical profile id, "" when unknown
	Preview    string
}

type debugQuarantined struct {
	ReceivedAt time.Time
	Source     string
	Type       string
	Reason     string
	Detail     string
	Preview    string
}

// sourceEvents answers the debugger's polls: with ?part=rows the tables
// (htmx polls), otherwise the whole panel (pausing and resuming swap it
// whole); without htmx, the sources page, which holds the panel.
func (s *server) sourceEvents(rq *request) error {
	q := rq.r.URL.Query()
	if !rq.htmx() {
		return s.redirect(rq, "/sources#debugger")
	}
	d, err := s.debugger(rq)
	if err != nil {
		return err
	}
	d.Paused = q.Get("paused") == "1"
	part := "debugger"
	if q.Get("part") == "rows" {
		part = "debugger-rows"
	}
	s.renderFragment(rq, http.StatusOK, "sources.html", part, d)
	return nil
}

func (s *server) debugger(rq *request) (*debugData, error) {
	pii := rq.who.Can(auth.CustomersPII)
	d := &debugData{Profiles: rq.who.Can(auth.CustomersRead)}
	evs, cursor, err := latestEvents(rq.ctx, s.DB, debugEvents)
	if err != nil {
		return nil, err
	}
	var processed []event.Stored
	for _, e := range evs {
		if e.Seq <= cursor {
			processed = append(processed, e.Stored)
		}
	}
	var profiles map[int64]string
	if d.Profiles && len(processed) > 0 {
		if profiles, err = s.profilesOf(rq.ctx, processed); err != nil {
			return nil, err
		}
	}
	for _, e := range evs {
		d.Events = append(d.Events, debugEvent{Seq: e.Seq, ReceivedAt: e.ReceivedAt, Source: e.source, Type: e.Type, Name: e.Name,
			Processed: e.Seq <= cursor, Profile: profiles[e.Seq], Preview: preview(e.Payload, pii)})
	}
	qs, err := latestQuarantine(rq.ctx, s.DB, debugQuarantine)
	if err != nil {
		return nil, err
	}
	for _, x := range qs {
		detail := x.Detail
		if !pii {
			detail = maskText(detail)
		}
		d.Quarantine = append(d.Quarantine, debugQuarantined{ReceivedAt: x.ReceivedAt, Source: x.source, Type: x.Type,
			Reason: string(x.Reason), Detail: detail, Preview: preview(x.Raw, pii)})
	}
	return d, nil
}

type namedEvent struct {
	event.Stored
	source string
}

// latestEvents returns the newest events of the log, newest first, with the
// processor's position (events at or below it are processed).
func latestEvents(ctx context.Context, db *sqldb.DB, limit int) ([]namedEvent, int64, error) {
	var cursor int64
	if err := db.QueryRow(ctx, "SELECT seq FROM cursors WHERE name = 'processor'").Scan(&cursor); err != nil {
		return nil, 0, sqldb.Classify(err)
	}
	rows, err := db.Query(ctx, `SELECT e.seq, e.source_id, s.name, s.channel, e.message_id, e.type, e.name, e.user_id, e.anonymous_id,
		e.ts, e.received_at, e.payload
		FROM events e JOIN sources s ON s.id = e.source_id ORDER BY e.seq DESC LIMIT ?`, limit)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []namedEvent
	for rows.Next() {
		var (
			e        namedEvent
			ts, recv int64
			payload  string
		)
		if err := rows.Scan(&e.Seq, &e.SourceID, &e.source, &e.Channel, &e.MessageID, &e.Type, &e.Name, &e.UserID, &e.AnonymousID,
			&ts, &recv, &payload); err != nil {
			return nil, 0, sqldb.Classify(err)
		}
		e.Timestamp, e.ReceivedAt, e.Payload = time.UnixMilli(ts).UTC(), time.UnixMilli(recv).UTC(), []byte(payload)
		out = append(out, e)
	}
	return out, cursor, sqldb.Classify(rows.Err())
}

type namedQuarantined struct {
	event.QuarantinedEvent
	source string
}

// latestQuarantine returns the newest quarantined events, newest first.
func latestQuarantine(ctx context.Context, db *sqldb.DB, limit int) ([]namedQuarantined, error) {
	rows, err := db.Query(ctx, `SELECT q.id, q.source_id, s.name, q.received_at, q.message_id, q.type, q.reason, q.detail, q.raw
		FROM quarantine q JOIN sources s ON s.id = q.source_id ORDER BY q.id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []namedQuarantined
	for rows.Next() {
		var (
			q    namedQuarantined
			recv int64
		)
		if err := rows.Scan(&q.ID, &q.SourceID, &q.source, &recv, &q.MessageID, &q.Type, &q.Reason, &q.Detail, &q.Raw); err != nil {
			return nil, sqldb.Classify(err)
		}
		q.ReceivedAt = time.UnixMilli(recv).UTC()
		out = append(out, q)
	}
	return out, sqldb.Classify(rows.Err())
}

// profilesOf finds the profile each processed event belongs to now: the
// canonical profile of its strongest identifier, read as the processor
// reads it (the same rules pick the same candidates).
func (s *server) profilesOf(ctx context.Context, evs []event.Stored) (map[int64]string, error) {
	rules, err := identity.LoadRules(ctx, s.DB, s.PhoneRegion)
	if err != nil {
		return nil, err
	}
	type pair struct{ typ, value string }
	cands := map[int64][]identity.Identifier{}
	var pairs []pair
	seen := map[pair]bool{}
	for _, e := range evs {
		b, err := event.DecodeBody(e.Payload)
		if err != nil {
			continue
		}
		ids, _ := rules.Candidates(identity.FromEvent(e, b))
		slices.SortStableFunc(ids, func(a, b identity.Identifier) int { return rules.Rule(a.Type).Priority - rules.Rule(b.Type).Priority })
		cands[e.Seq] = ids
		for _, id := range ids {
			p := pair{id.Type, id.Value}
			if !seen[p] {
				seen[p] = true
				pairs = append(pairs, p)
			}
		}
	}
	roots := map[pair]string{}
	for chunk := range slices.Chunk(pairs, 100) {
		var (
			where []string
			args  []any
		)
		for _, p := range chunk {
			where = append(where, "(i.type = ? AND i.value = ?)")
			args = append(args, p.typ, p.value)
		}
		rows, err := s.DB.Query(ctx, `SELECT i.type, i.value, p.canonical_id FROM identities i JOIN profiles p ON p.id = i.profile_id
			WHERE `+strings.Join(where, " OR "), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var (
				p    pair
				root string
			)
			if err := rows.Scan(&p.typ, &p.value, &root); err != nil {
				rows.Close()
				return nil, sqldb.Classify(err)
			}
			roots[p] = root
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, sqldb.Classify(err)
		}
	}
	out := map[int64]string{}
	for seq, ids := range cands {
		for _, id := range ids {
			if r, ok := roots[pair{id.Type, id.Value}]; ok {
				out[seq] = r
				break
			}
		}
	}
	return out, nil
}

// preview shortens a payload for a table cell: compact JSON, contact
// details masked unless pii, cut to previewRunes characters. Bytes that are
// not JSON show only to staff with pii (as text, invalid UTF-8 replaced).
func preview(raw []byte, pii bool) string {
	var text string
	switch {
	case !pii:
		text = string(auth.MaskJSON(raw))
		if text == "null" && !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			text = "…"
		}
	default:
		var buf bytes.Buffer
		if json.Compact(&buf, raw) == nil {
			text = buf.String()
		} else {
			text = string(raw)
		}
	}
	text = strings.ToValidUTF8(text, "\uFFFD")
	if utf8.RuneCountInString(text) > previewRunes {
		r := []rune(text)
		text = string(r[:previewRunes]) + "…"
	}
	return text
}

// maskText masks the words of a text that look like e-mail addresses
// (quarantine details quote what the client sent).
func maskText(s string) string {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '"' || r == '\'' || r == ',' || r == ';' })
	for _, w := range f {
		if strings.Contains(w, "@") {
			s = strings.ReplaceAll(s, w, auth.MaskEmail(w))
		}
	}
	return s
}
