package profile

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// Profile is a canonical profile as the API shows it.
type Profile struct {
	ID          string             `json:"id"`
	CreatedAt   time.Time          `json:"created_at"`
	FirstSeen   time.Time          `json:"first_seen"`
	LastSeen    time.Time          `json:"last_seen"`
	Name        string             `json:"name"`
	Email       string             `json:"email"`
	Phone       string             `json:"phone"`
	Traits      json.RawMessage    `json:"traits"`
	Consent     map[string]Consent `json:"consent"`
	Acquisition *Touch             `json:"acquisition,omitempty"`
}

func ms(v int64) time.Time { return time.UnixMilli(v).UTC() }

const columns = "p.id, p.created_at, a.first_seen, a.last_seen, p.name, p.email, p.phone, p.traits, p.consent, p.acquisition"

// from joins a profile with its activity.
const from = " FROM profiles p JOIN profile_activity a ON a.profile_id = p.id"

func scan(sc interface{ Scan(...any) error }) (Profile, error) {
	var (
		p                    Profile
		created, first, last int64
		traits, consent, acq string
	)
	if err := sc.Scan(&p.ID, &created, &first, &last, &p.Name, &p.Email, &p.Phone, &traits, &consent, &acq); err != nil {
		return Profile{}, err
	}
	p.CreatedAt, p.FirstSeen, p.LastSeen = ms(created), ms(first), ms(last)
	p.Traits = json.RawMessage(traits)
	p.Consent = map[string]Consent{}
	unmarshalInto(consent, &p.Consent)
	if acq != "" && acq != "{}" {
		p.Acquisition = &Touch{}
		unmarshalInto(acq, p.Acquisition)
	}
	return p, nil
}

// Get returns canonical profile id.
func Get(ctx context.Context, c sqldb.Conn, id string) (Profile, error) {
	p, err := scan(c.QueryRow(ctx, "SELECT "+columns+from+" WHERE p.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Profile{}, fault.New(fault.NotFound, "no profile %q", id)
	}
	return p, sqldb.Classify(err)
}

// Page is one page of a profile listing; Next continues it ("" at the end).
type Page struct {
	Profiles []Profile `json:"profiles"`
	Next     string    `json:"next,omitempty"`
}

// Query selects profiles to list.
type Query struct {
	Text   string   // words of a name, an e-mail, a phone number; prefix match
	IDs    []string // canonical profiles that match Text exactly by an identifier
	Limit  int
	Cursor string
}

// Search lists canonical profiles, most recently seen first: those whose
// identifiers match exactly (q.IDs) first, then those whose name, e-mail or
// phone words start with the words of q.Text. Without text it lists all.
func Search(ctx context.Context, c sqldb.Conn, q Query) (Page, error) {
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 50
	}
	var (
		where []string
		args  []any
	)
	where = append(where, "p.merged_into IS NULL")
	words := Words(q.Text)
	if len(words) > 8 {
		words = words[:8]
	}
	if strings.TrimSpace(q.Text) != "" {
		var alts []string
		if len(words) > 0 {
			var all []string
			for _, w := range words {
				all = append(all, "p.id IN (SELECT profile_id FROM profile_terms WHERE term >= ? AND term < ?)")
				args = append(args, w, w+"\U0010FFFF")
			}
			alts = append(alts, "("+strings.Join(all, " AND ")+")")
		}
		if len(q.IDs) > 0 {
			alts = append(alts, "p.id IN ("+sqldb.Placeholders(len(q.IDs))+")")
			for _, id := range q.IDs {
				args = append(args, id)
			}
		}
		if len(alts) == 0 {
			return Page{Profiles: []Profile{}}, nil
		}
		where = append(where, "("+strings.Join(alts, " OR ")+")")
	}
	if q.Cursor != "" {
		last, id, ok := strings.Cut(q.Cursor, "_")
		n, err := strconv.ParseInt(last, 10, 64)
		if !ok || err != nil {
			return Page{}, fault.New(fault.Invalid, "cursor %q is not one this API returned", q.Cursor)
		}
		where = append(where, "(a.last_seen < ? OR (a.last_seen = ? AND a.profile_id < ?))")
		args = append(args, n, n, id)
	}
	args = append(args, q.Limit+1)
	rows, err := c.Query(ctx, "SELECT "+columns+from+" WHERE "+strings.Join(where, " AND ")+
		" ORDER BY a.last_seen DESC, a.profile_id DESC LIMIT ?", args...)
	if err != nil {
		return Page{}, err
	}
	defer rows.Close()
	page := Page{Profiles: []Profile{}}
	for rows.Next() {
		p, err := scan(rows)
		if err != nil {
			return Page{}, sqldb.Classify(err)
		}
		page.Profiles = append(page.Profiles, p)
	}
	if err := rows.Err(); err != nil {
		return Page{}, sqldb.Classify(err)
	}
	if len(page.Profiles) > q.Limit {
		page.Profiles = page.Profiles[:q.Limit]
		last := page.Profiles[q.Limit-1]
		page.Next = fmt.Sprintf("%d_%s", last.LastSeen.UnixMilli(), last.ID)
	}
	return page, nil
}

// TimelineEntry locates one event of a profile's timeline.
type TimelineEntry struct {
	Seq       int64
	Timestamp time.Time
	Profile   string // the member profile the event was attributed to
}

// Timeline returns a canonical profile's events, newest first, before the
// cursor (an event time and seq from a previous page; zero for the start).
func Timeline(ctx context.Context, c sqldb.Conn, root string, beforeTS, beforeSeq int64, limit int) ([]TimelineEntry, error) {
	if beforeTS == 0 {
		beforeTS, beforeSeq = 1<<62, 1<<62
	}
	rows, err := c.Query(ctx, `SELECT t.seq, t.ts, t.profile_id FROM timeline t JOIN profiles p ON p.id = t.profile_id
		WHERE p.canonical_id = ? AND (t.ts < ? OR (t.ts = ? AND t.seq < ?))
		ORDER BY t.ts DESC, t.seq DESC LIMIT ?`, root, beforeTS, beforeTS, beforeSeq, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []TimelineEntry
	for rows.Next() {
		var (
			e  TimelineEntry
			ts int64
		)
		if err := rows.Scan(&e.Seq, &ts, &e.Profile); err != nil {
			return nil, sqldb.Classify(err)
		}
		e.Timestamp = ms(ts)
		out = append(out, e)
	}
	return out, sqldb.Classify(rows.Err())
}
