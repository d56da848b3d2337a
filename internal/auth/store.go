package auth

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"

	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/google/uuid"
)

// Store keeps sources, write keys, staff users, their sessions and API keys.
type Store struct {
	db  *sqldb.DB
	now func() time.Time

	idle, lifetime time.Duration // session timeouts

	hashing   chan struct{} // bounds concurrent argon2id runs (19 MiB each)
	dummyOnce sync.Once
	dummy     string // a hash to verify against for unknown e-mails
}

// Default session timeouts.
const (
	DefaultSessionIdle     = time.Hour
	DefaultSessionLifetime = 12 * time.Hour
)

// maxHashing is how many password hashes may be computed at once.
const maxHashing = 4

// NewStore returns a Store on db. now is the clock (time.Now in production).
func NewStore(db *sqldb.DB, now func() time.Time) *Store {
	return &Store{db: db, now: now, idle: DefaultSessionIdle, lifetime: DefaultSessionLifetime, hashing: make(chan struct{}, maxHashing)}
}

// SetSessionTimeouts sets how long a dashboard session lasts without use
// (idle) and at most (lifetime). Zero or negative values keep the current
// ones. Call it before the store is used.
func (s *Store) SetSessionTimeouts(idle, lifetime time.Duration) {
	if idle > 0 {
		s.idle = idle
	}
	if lifetime > 0 {
		s.lifetime = lifetime
	}
}

// SessionTimeouts returns the idle and absolute session timeouts.
func (s *Store) SessionTimeouts() (idle, lifetime time.Duration) { return s.idle, s.lifetime }

// hash hashes a password, waiting for a hashing slot.
func (s *Store) hash(ctx context.Context, pw string) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer func() { <-s.hashing }()
	return hashPassword(pw), nil
}

// verify checks a password against a PHC string, waiting for a hashing
// slot; stale reports that the hash should be renewed with the current
// parameters.
func (s *Store) verify(ctx context.Context, phc, pw string) (ok, stale bool, err error) {
	if err := s.acquire(ctx); err != nil {
		return false, false, err
	}
	defer func() { <-s.hashing }()
	ok, stale = verifyPassword(phc, pw)
	return ok, stale, nil
}

func (s *Store) acquire(ctx context.Context) error {
	select {
	case s.hashing <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fault.Wrap(ctx.Err(), fault.Unavailable, "too busy checking passwords; try again")
	}
}

// dummyHash is verified against when an e-mail is unknown, so that a wrong
// e-mail takes as long as a wrong password.
func (s *Store) dummyHash() string {
	s.dummyOnce.Do(func() { s.dummy = hashPassword(GeneratePassword()) })
	return s.dummy
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
