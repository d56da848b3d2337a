package process

import (
	"context"
	"time"

	"github.com/bottega-crm/bottega/internal/event"
	"github.com/bottega-crm/bottega/internal/identity"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// An Extension keeps derived data of its own (analytics rollups, survey
// answers, care tickets…) in step with processing. It sees every batch
// inside the batch's transaction, so its data commits or rolls back with the
// events that made it, and is applied exactly once like everything else.
type Extension interface {
	// Begin starts the extension's work on one batch.
	Begin(ctx context.Context, tx *sqldb.Tx, now time.Time) (Hook, error)
	// Rebuild recomputes, inside tx, the extension's data of canonical
	// profiles whose membership an operator changed (both sides of an
	// unmerge).
	Rebuild(ctx context.Context, tx *sqldb.Tx, roots []string) error
}

// Hook receives one batch.
type Hook interface {
	// Event sees each event the batch applied, in log order. A fault.Invalid
	// error records the event as failed (its other effects stay); any other
	// error aborts the batch, which is retried.
	Event(a Applied) error
	// Flush runs once the batch's identities, profiles and orders are
	// written.
	Flush(c Changes) error
}

// Applied is an event as processing placed it.
type Applied struct {
	Event   event.Stored
	Body    event.Body
	Profile string // the raw profile the event is attributed to
	Root    string // that profile's canonical profile when the event was applied
}

// Changes tells a Hook what a batch changed besides its events.
type Changes struct {
	// Merges are the merges the batch made, in order (canonical profiles).
	Merges []identity.Merge
	// Customers are canonical profiles whose orders, or whose membership
	// (through a merge), changed.
	Customers []string
	// Acquired are canonical profiles whose first-touch campaign changed.
	Acquired []string
	// RootOf returns the current canonical profile of any profile.
	RootOf func(profile string) (string, error)
}
