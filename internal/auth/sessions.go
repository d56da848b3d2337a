package auth

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/sqldb"
)

// LoginMeta describes where a sign-in comes from; it is kept with the
// session for the staff member to review.
type LoginMeta struct {
	IP        string
	UserAgent string
}

// Session is a signed-in dashboard session. Its token is never stored, only
// its SHA-256.
type Session struct {
	UserID     string
	CreatedAt  time.Time
	LastSeenAt time.Time // updated at most once a minute
	IP         string
	UserAgent  string
	ExpiresAt  time.Time // if unused: the earlier of LastSeenAt+idle and CreatedAt+lifetime
}

const (
	sessionPrefix = "bss_"
	// touchEvery is how stale last_seen_at may get: a session is written at
	// most once a minute, not on every request (SQLite has one writer).
	touchEvery = time.Minute
)

func wrongLogin() error { return fault.New(fault.Unauthorized, "wrong e-mail or password") }

func sessionEnded() error {
	return fault.New(fault.Unauthorized, "your session has ended: sign in again")
}

// Login checks an e-mail and password and opens a session, returning the
// user and a fresh session token (shown only now). An unknown e-mail, a
// wrong password and a disabled user all answer the same Unauthorized
// "wrong e-mail or password", in about the same time: an unknown e-mail is
// checked against a dummy hash. Rate limiting is the caller's, with a
// LoginLimiter.
func (s *Store) Login(ctx context.Context, email, password string, meta LoginMeta) (User, string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	if len(password) > MaxPasswordBytes || len(e) > 254 {
		return User{}, "", wrongLogin() // no password is that long: nothing to time
	}
	var hash string
	u, err := scanUser(s.db.QueryRow(ctx, "SELECT "+userColumns+", u.password_hash FROM users u WHERE u.email = ?", e), &hash)
	if errors.Is(err, sql.ErrNoRows) {
		if _, _, err := s.verify(ctx, s.dummyHash(), password); err != nil {
			return User{}, "", err
		}
		return User{}, "", wrongLogin()
	}
	if err != nil {
		return User{}, "", sqldb.Classify(err)
	}
	ok, stale, err := s.verify(ctx, hash, password)
	if err != nil {
		return User{}, "", err
	}
	if !ok || u.Disabled() {
		return User{}, "", wrongLogin()
	}
	if stale { // hashed with older parameters: renew it now that we know the password
		if hash, err = s.hash(ctx, password); err != nil {
			return User{}, "", err
		}
	}
	token, th := newSecret(sessionPrefix)
	now := s.now()
	err = s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.Exec(ctx, "UPDATE users SET last_login_at = ?, password_hash = ? WHERE id = ? AND disabled_at IS NULL", ms(now), hash, u.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 { // disabled meanwhile
			return wrongLogin()
		}
		_, err = tx.Exec(ctx, "INSERT INTO sessions (hash, user_id, created_at, last_seen_at, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?)",
			th, u.ID, ms(now), ms(now), clip(meta.IP, 64), clip(meta.UserAgent, 512))
		return err
	})
	if err != nil {
		return User{}, "", err
	}
	at := now.UTC().Truncate(time.Millisecond)
	u.LastLoginAt = &at
	return u, token, nil
}

// clip shortens s to at most n bytes without splitting a character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && (s[n]&0xc0) == 0x80 {
		n--
	}
	return s[:n]
}

// SessionPrincipal authenticates a session token: the staff member with
// their role's permissions. Unknown tokens, sessions idle for longer than the
// idle timeout or older than the lifetime, and sessions of disabled users
// answer Unauthorized (and expired sessions are deleted).
func (s *Store) SessionPrincipal(ctx context.Context, token string) (Principal, Session, error) {
	if !strings.HasPrefix(token, sessionPrefix) {
		return Principal{}, Session{}, fault.New(fault.Unauthorized, "not signed in")
	}
	h := hashKey(token)
	var (
		sess          Session
		created, seen int64
	)
	u, err := scanUser(s.db.QueryRow(ctx, "SELECT "+userColumns+`, s.created_at, s.last_seen_at, s.ip, s.user_agent
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.hash = ?`, h), &created, &seen, &sess.IP, &sess.UserAgent)
	if errors.Is(err, sql.ErrNoRows) {
		return Principal{}, Session{}, sessionEnded()
	}
	if err != nil {
		return Principal{}, Session{}, sqldb.Classify(err)
	}
	now := s.now()
	sess.UserID = u.ID
	sess.CreatedAt, sess.LastSeenAt = time.UnixMilli(created).UTC(), time.UnixMilli(seen).UTC()
	if now.After(sess.LastSeenAt.Add(s.idle)) || now.After(sess.CreatedAt.Add(s.lifetime)) || u.Disabled() {
		if _, err := s.db.Exec(ctx, "DELETE FROM sessions WHERE hash = ?", h); err != nil {
			return Principal{}, Session{}, err
		}
		return Principal{}, Session{}, sessionEnded()
	}
	if now.Sub(sess.LastSeenAt) >= touchEvery {
		if _, err := s.db.Exec(ctx, "UPDATE sessions SET last_seen_at = ? WHERE hash = ?", ms(now), h); err != nil {
			return Principal{}, Session{}, err
		}
		sess.LastSeenAt = now.UTC().Truncate(time.Millisecond)
	}
	sess.ExpiresAt = sess.LastSeenAt.Add(s.idle)
	if end := sess.CreatedAt.Add(s.lifetime); end.Before(sess.ExpiresAt) {
		sess.ExpiresAt = end
	}
	return NewPrincipal(u, "", nil), sess, nil
}

// Logout ends the session of token. Ending a session that does not exist
// is not an error.
func (s *Store) Logout(ctx context.Context, token string) error {
	_, err := s.db.Exec(ctx, "DELETE FROM sessions WHERE hash = ?", hashKey(token))
	return err
}

// EndSessions ends every session of a staff member and returns how many
// there were.
func (s *Store) EndSessions(ctx context.Context, userID string) (int, error) {
	res, err := s.db.Exec(ctx, "DELETE FROM sessions WHERE user_id = ?", userID)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// PurgeSessions deletes the sessions that have expired and returns how
// many; a periodic job calls it.
func (s *Store) PurgeSessions(ctx context.Context) (int, error) {
	now := s.now()
	res, err := s.db.Exec(ctx, "DELETE FROM sessions WHERE last_seen_at < ? OR created_at < ?", ms(now.Add(-s.idle)), ms(now.Add(-s.lifetime)))
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
