package identity

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

const rulesSetting = "identity_rules"

// LoadRules returns the rules saved in the database, or the defaults (with
// phone region defaultRegion) when none were saved.
func LoadRules(ctx context.Context, c sqldb.Conn, defaultRegion string) (Rules, error) {
	var v string
	err := c.QueryRow(ctx, "SELECT value FROM settings WHERE name = ?", rulesSetting).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultRules(defaultRegion), nil
	}
	if err != nil {
		return Rules{}, sqldb.Classify(err)
	}
	return ParseRules([]byte(v))
}

// ParseRules reads and validates rules written as JSON.
func ParseRules(b []byte) (Rules, error) {
	var r Rules
	if err := json.Unmarshal(b, &r); err != nil {
		var fe *fault.Error
		if errors.As(err, &fe) {
			return Rules{}, fe
		}
		return Rules{}, fault.New(fault.Invalid, "identity rules: %v", err)
	}
	if err := r.Compile(); err != nil {
		return Rules{}, err
	}
	return r, nil
}

// SaveRules validates and stores rules; they apply to events processed from
// then on.
func SaveRules(ctx context.Context, db *sqldb.DB, r Rules, now time.Time) error {
	if err := r.Compile(); err != nil {
		return err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = db.Exec(ctx, `INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, rulesSetting, string(b), now.UnixMilli())
	return err
}
