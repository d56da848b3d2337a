package directory

import (
	"context"

	"github.com/bottega-crm/bottega/internal/sqldb"
)

// ListWalking is List that never starts from a rare filter value or search
// word: it walks the sort's index and checks every customer, as List does
// for common values in a large shop.
func ListWalking(ctx context.Context, c sqldb.Conn, f Filter) (Page, error) {
	return list(ctx, c, f, -1)
}
