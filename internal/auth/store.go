package auth

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/google/uuid"
)

// Store keeps sources, write keys and API keys.
type Store struct {
	db  *sqldb.DB
	now func() time.Time
}

// NewStore returns a Store on db. now is the clock (time.Now in production).
func NewStore(db *sqldb.DB, now func() time.Time) *Store {
	return &Store{db: db, now: now}
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func timePtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.UnixMilli(v.Int64).UTC()
	return &t
}

// CreateSource adds a source and returns it with its first write key.
func (s *Store) CreateSource(ctx context.Context, name, channel string, rateLimit int) (Source, string, error) {
	if err := validName("source", name); err != nil {
		return Source{}, "", err
	}
	if !ValidChannel(channel) {
		return Source{}, "", fault.New(fault.Invalid, "channel %q is not one of %v", channel, Channels)
	}
	if rateLimit < 0 {
		return Source{}, "", fault.New(fault.Invalid, "rate limit must be 0 (unlimited) or a positive number of events per second")
	}
	now := s.now()
	src := Source{ID: uuid.Must(uuid.NewV7()).String(), Name: name, Channel: channel, RateLimit: rateLimit, CreatedAt: now.UTC().Truncate(time.Millisecond)}
	key, hash := newSecret(writeKeyPrefix)
	src.KeyPrefix = display(key)
	err := s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO sources (id, name, channel, rate_limit, created_at) VALUES (?, ?, ?, ?, ?)",
			src.ID, name, channel, rateLimit, ms(now)); err != nil {
			if fault.Is(err, fault.Conflict) {
				return fault.New(fault.Conflict, "a source named %q already exists", name)
			}
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO source_keys (hash, source_id, prefix, created_at) VALUES (?, ?, ?, ?)",
			hash, src.ID, src.KeyPrefix, ms(now))
		return err
	})
	if err != nil {
		return Source{}, "", err
	}
	return src, key, nil
}

const sourceColumns = `s.id, s.name, s.channel, s.rate_limit, s.created_at, s.disabled_at,
	COALESCE((SELECT k.prefix FROM source_keys k WHERE k.source_id = s.id AND k.expires_at IS NULL ORDER BY k.created_at DESC LIMIT 1), '')`

func scanSource(sc interface{ Scan(...any) error }) (Source, error) {
	var (
		src      Source
		created  int64
		disabled sql.NullInt64
	)
	if err := sc.Scan(&src.ID, &src.Name, &src.Channel, &src.RateLimit, &created, &disabled, &src.KeyPrefix); err != nil {
		return Source{}, err
	}
	src.CreatedAt = time.UnixMilli(created).UTC()
	src.DisabledAt = timePtr(disabled)
	return src, nil
}

// ListSources returns every source, by name.
func (s *Store) ListSources(ctx context.Context) ([]Source, error) {
	rows, err := s.db.Query(ctx, "SELECT "+sourceColumns+" FROM sources s ORDER BY s.name")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Source
	for rows.Next() {
		src, err := scanSource(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, src)
	}
	return out, rows.Err()
}

// SourceByName returns the named source.
func (s *Store) SourceByName(ctx context.Context, name string) (Source, error) {
	src, err := scanSource(s.db.QueryRow(ctx, "SELECT "+sourceColumns+" FROM sources s WHERE s.name = ?", name))
	if errors.Is(err, sql.ErrNoRows) {
		return Source{}, fault.New(fault.NotFound, "no source named %q", name)
	}
	return src, sqldb.Classify(err)
}

// SourceByWriteKey authenticates a write key. Unknown, expired and disabled
// keys all answer Unauthorized.
func (s *Store) SourceByWriteKey(ctx context.Context, key string) (Source, error) {
	if key == "" {
		return Source{}, fault.New(fault.Unauthorized, "a write key is required (HTTP Basic user or writeKey in the body)")
	}
	src, err := scanSource(s.db.QueryRow(ctx, "SELECT "+sourceColumns+` FROM sources s JOIN source_keys k ON k.source_id = s.id
		WHERE k.hash = ? AND (k.expires_at IS NULL OR k.expires_at > ?)`, hashKey(key), ms(s.now())))
	if errors.Is(err, sql.ErrNoRows) {
		return Source{}, fault.New(fault.Unauthorized, "unknown write key")
	}
	if err != nil {
		return Source{}, sqldb.Classify(err)
	}
	if src.Disabled() {
		return Source{}, fault.New(fault.Unauthorized, "source %q is disabled", src.Name)
	}
	return src, nil
}

// RotateSourceKey issues a new write key for the named source. Older keys stay
// valid for grace (zero: they stop working at once).
func (s *Store) RotateSourceKey(ctx context.Context, name string, grace time.Duration) (string, error) {
	if grace < 0 {
		return "", fault.New(fault.Invalid, "grace period cannot be negative")
	}
	src, err := s.SourceByName(ctx, name)
	if err != nil {
		return "", err
	}
	now := s.now()
	key, hash := newSecret(writeKeyPrefix)
	err = s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE source_keys SET expires_at = ? WHERE source_id = ? AND (expires_at IS NULL OR expires_at > ?)",
			ms(now.Add(grace)), src.ID, ms(now.Add(grace))); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO source_keys (hash, source_id, prefix, created_at) VALUES (?, ?, ?, ?)",
			hash, src.ID, display(key), ms(now))
		return err
	})
	return key, err
}

// SetSourceDisabled disables or re-enables the named source.
func (s *Store) SetSourceDisabled(ctx context.Context, name string, disabled bool) error {
	var at any
	if disabled {
		at = ms(s.now())
	}
	res, err := s.db.Exec(ctx, "UPDATE sources SET disabled_at = ? WHERE name = ?", at, name)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fault.New(fault.NotFound, "no source named %q", name)
	}
	return nil
}

// SetSourceRateLimit sets the named source's rate limit in events per second
// (0: unlimited).
func (s *Store) SetSourceRateLimit(ctx context.Context, name string, rate int) error {
	if rate < 0 {
		return fault.New(fault.Invalid, "rate limit must be 0 (unlimited) or a positive number of events per second")
	}
	res, err := s.db.Exec(ctx, "UPDATE sources SET rate_limit = ? WHERE name = ?", rate, name)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fault.New(fault.NotFound, "no source named %q", name)
	}
	return nil
}

// CreateAPIKey adds an API key and returns it with its secret.
func (s *Store) CreateAPIKey(ctx context.Context, name string) (APIKey, string, error) {
	if err := validName("API key", name); err != nil {
		return APIKey{}, "", err
	}
	now := s.now()
	key, hash := newSecret(apiKeyPrefix)
	k := APIKey{ID: uuid.Must(uuid.NewV7()).String(), Name: name, Prefix: display(key), CreatedAt: now.UTC().Truncate(time.Millisecond)}
	_, err := s.db.Exec(ctx, "INSERT INTO api_keys (id, name, hash, prefix, created_at) VALUES (?, ?, ?, ?, ?)",
		k.ID, k.Name, hash, k.Prefix, ms(now))
	if err != nil {
		return APIKey{}, "", err
	}
	return k, key, nil
}

// APIKeyByToken authenticates a bearer token.
func (s *Store) APIKeyByToken(ctx context.Context, token string) (APIKey, error) {
	if token == "" {
		return APIKey{}, fault.New(fault.Unauthorized, "an API key is required: Authorization: Bearer <key>")
	}
	var (
		k       APIKey
		created int64
		revoked sql.NullInt64
	)
	err := s.db.QueryRow(ctx, "SELECT id, name, prefix, created_at, revoked_at FROM api_keys WHERE hash = ?", hashKey(token)).
		Scan(&k.ID, &k.Name, &k.Prefix, &created, &revoked)
	if errors.Is(err, sql.ErrNoRows) || err == nil && revoked.Valid {
		return APIKey{}, fault.New(fault.Unauthorized, "unknown or revoked API key")
	}
	if err != nil {
		return APIKey{}, sqldb.Classify(err)
	}
	k.CreatedAt = time.UnixMilli(created).UTC()
	return k, nil
}

// ListAPIKeys returns every API key, newest first.
func (s *Store) ListAPIKeys(ctx context.Context) ([]APIKey, error) {
	rows, err := s.db.Query(ctx, "SELECT id, name, prefix, created_at, revoked_at FROM api_keys ORDER BY created_at DESC")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		var (
			k       APIKey
			created int64
			revoked sql.NullInt64
		)
		if err := rows.Scan(&k.ID, &k.Name, &k.Prefix, &created, &revoked); err != nil {
			return nil, err
		}
		k.CreatedAt = time.UnixMilli(created).UTC()
		k.RevokedAt = timePtr(revoked)
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey revokes every key with the given name or id.
func (s *Store) RevokeAPIKey(ctx context.Context, nameOrID string) error {
	res, err := s.db.Exec(ctx, "UPDATE api_keys SET revoked_at = ? WHERE (name = ? OR id = ?) AND revoked_at IS NULL", ms(s.now()), nameOrID, nameOrID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fault.New(fault.NotFound, "no active API key %q", nameOrID)
	}
	return nil
}
