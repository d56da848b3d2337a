package directory

import (
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"time"

	"github.com/bottega-crm/bottega/internal/auth"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// ExportColumns are the columns of the CSV export.
var ExportColumns = []string{"id", "name", "email", "phone", "orders", "revenue", "segment", "persona", "churn_risk", "clv", "nps", "last_seen"}

// Export writes every customer f selects as CSV (f's cursor and limit are
// ignored), reading a page at a time. Money is in minor units of the base
// currency; last_seen is RFC 3339 UTC. Without withContact, e-mails and
// phone numbers are masked.
func Export(ctx context.Context, c sqldb.Conn, f Filter, w io.Writer, withContact bool) error {
	f.Cursor, f.Limit = "", MaxLimit
	cw := csv.NewWriter(w)
	if err := cw.Write(ExportColumns); err != nil {
		return err
	}
	for {
		page, err := List(ctx, c, f)
		if err != nil {
			return err
		}
		for _, r := range page.Rows {
			email, phone := r.Email, r.Phone
			if !withContact {
				email, phone = auth.MaskEmail(email), auth.MaskPhone(phone)
			}
			clv, nps, persona := "", "", ""
			if r.CLVMinor != nil {
				clv = strconv.FormatInt(*r.CLVMinor, 10)
			}
			if r.NPS != nil {
				nps = strconv.Itoa(*r.NPS)
			}
			if r.Persona > 0 {
				persona = strconv.Itoa(r.Persona) + " " + r.PersonaName
			}
			// Numbers we format ourselves stay numbers (a refund can make
			// revenue negative); every text cell is defused.
			rec := []string{Defuse(r.ID), Defuse(r.Name), Defuse(email), Defuse(phone), strconv.FormatInt(r.Orders, 10), strconv.FormatInt(r.RevenueMinor, 10),
				Defuse(r.Segment), Defuse(persona), Defuse(r.Churn), clv, nps, r.LastSeen.Format(time.RFC3339)}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		if page.Next == "" {
			return nil
		}
		f.Cursor = page.Next
	}
}

// Defuse keeps a spreadsheet from running a cell as a formula (OWASP's CSV
// injection advice): a cell starting with =, +, -, @, a tab or a carriage
// return gets a leading single quote.
func Defuse(cell string) string {
	if cell == "" {
		return cell
	}
	switch cell[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + cell
	}
	return cell
}
