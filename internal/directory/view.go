package directory

import (
	"context"
	"slices"
	"time"

	"github.com/bottega-crm/bottega/internal/analytics/persona"
	"github.com/bottega-crm/bottega/internal/analytics/predict"
	"github.com/bottega-crm/bottega/internal/analytics/rfm"
	"github.com/bottega-crm/bottega/internal/identity"
	"github.com/bottega-crm/bottega/internal/order"
	"github.com/bottega-crm/bottega/internal/profile"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// Summary is a profile with what is known about the person at a glance:
// what the API shows of a profile.
type Summary struct {
	profile.Profile
	Identities     []identity.Identity `json:"identities"`
	Stats          order.Stats         `json:"stats"`
	MergedProfiles []string            `json:"merged_profiles" doc:"Profiles merged into this one"`

	// Computed traits.
	RFM     *rfm.CustomerScore      `json:"rfm" doc:"RFM scores and segment of the last hourly run (null: no completed order then)"`
	Persona *persona.ProfilePersona `json:"persona" doc:"Buyer persona of the last daily run (null: none)"`

	Predictions predict.View `json:"predictions" doc:"BG/NBD and Gamma-Gamma predictions of the current model, or why there are none"`
}

// Summarize returns the summary of canonical profile root.
func Summarize(ctx context.Context, c sqldb.Conn, root, baseCurrency string) (Summary, error) {
	p, err := profile.Get(ctx, c, root)
	if err != nil {
		return Summary{}, err
	}
	v := Summary{Profile: p, MergedProfiles: []string{}}
	if v.Identities, err = identity.Identities(ctx, c, root); err != nil {
		return Summary{}, err
	}
	if v.Stats, err = order.GetStats(ctx, c, root, baseCurrency); err != nil {
		return Summary{}, err
	}
	// Every profile holds at least the identifier it was made for, so the
	// identities name all the profiles merged into this one.
	seen := map[string]bool{root: true}
	for _, id := range v.Identities {
		if !seen[id.Profile] {
			seen[id.Profile] = true
			v.MergedProfiles = append(v.MergedProfiles, id.Profile)
		}
	}
	slices.Sort(v.MergedProfiles)
	if v.RFM, err = rfm.Get(ctx, c, root, baseCurrency); err != nil {
		return Summary{}, err
	}
	if v.Persona, err = persona.Get(ctx, c, root); err != nil {
		return Summary{}, err
	}
	if v.Predictions, err = predict.ForProfile(ctx, c, root); err != nil {
		return Summary{}, err
	}
	return v, nil
}

// Answer is one survey answer of a customer.
type Answer struct {
	Type        string    `json:"type"` // nps or csat
	Score       int       `json:"score"`
	Comment     string    `json:"comment"`
	Channel     string    `json:"channel"` // the channel of the experience rated ("" : not said)
	StoreID     string    `json:"store_id"`
	OrderID     string    `json:"order_id"`
	RespondedAt time.Time `json:"responded_at"`
}

// Merge is a merge of the customer's profiles, and whether it can be
// undone.
type Merge struct {
	identity.MergeRecord
	Undoable bool `json:"undoable"`
}

// Customer is the customer 360: everything known about one person.
type Customer struct {
	Summary
	Answers    []Answer       `json:"answers"`     // NPS and CSAT answers, newest first (at most MaxAnswers)
	Orders     []order.Record `json:"orders"`      // newest first, with items and refunds (at most MaxOrders)
	MoreOrders bool           `json:"more_orders"` // the customer has more orders than shown
	Merges     []Merge        `json:"merges"`      // newest first
}

// Limits of the customer 360's lists.
const (
	MaxAnswers = 100
	MaxOrders  = 50
)

// View returns the customer 360 of canonical profile root (identity.Canonical
// finds it for a merged-away id).
func View(ctx context.Context, c sqldb.Conn, root, baseCurrency string) (Customer, error) {
	s, err := Summarize(ctx, c, root, baseCurrency)
	if err != nil {
		return Customer{}, err
	}
	v := Customer{Summary: s}
	if v.Answers, err = answers(ctx, c, root); err != nil {
		return Customer{}, err
	}
	if v.Orders, err = order.List(ctx, c, root, 0, MaxOrders+1); err != nil {
		return Customer{}, err
	}
	if v.Orders == nil {
		v.Orders = []order.Record{}
	}
	if len(v.Orders) > MaxOrders {
		v.Orders, v.MoreOrders = v.Orders[:MaxOrders], true
	}
	ms, err := identity.Merges(ctx, c, root)
	if err != nil {
		return Customer{}, err
	}
	v.Merges = make([]Merge, len(ms))
	for i, m := range ms {
		v.Merges[i] = Merge{MergeRecord: m, Undoable: m.UndoneAt == nil}
	}
	return v, nil
}

func answers(ctx context.Context, c sqldb.Conn, root string) ([]Answer, error) {
	rows, err := c.Query(ctx, `SELECT r.survey_type, r.score, r.comment, r.channel, r.store_id, r.order_id, r.responded_at
		FROM survey_responses r JOIN profiles p ON p.id = r.profile_id
		WHERE p.canonical_id = ? ORDER BY r.responded_at DESC, r.event_seq DESC LIMIT ?`, root, MaxAnswers)
	if err != nil {
		return nil, sqldb.Classify(err)
	}
	defer rows.Close()
	out := []Answer{}
	for rows.Next() {
		var (
			a  Answer
			at int64
		)
		if err := rows.Scan(&a.Type, &a.Score, &a.Comment, &a.Channel, &a.StoreID, &a.OrderID, &at); err != nil {
			return nil, sqldb.Classify(err)
		}
		a.RespondedAt = time.UnixMilli(at).UTC()
		out = append(out, a)
	}
	return out, sqldb.Classify(rows.Err())
}
