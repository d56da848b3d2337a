package auth

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/google/uuid"
)

// checkScopes rejects unknown permissions and drops repeats.
func checkScopes(scopes []Permission) ([]Permission, error) {
	var out []Permission
	for _, p := range scopes {
		if !slices.Contains(Permissions, p) {
			return nil, fault.New(fault.Invalid, "unknown permission %q; known: %s", p, joinPerms(Permissions))
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// readScopes reads stored scopes, skipping permissions this bottega does not
// know. The result is never nil: a key with no scopes may do nothing.
func readScopes(s string) []Permission {
	out := []Permission{}
	for f := range strings.SplitSeq(s, ",") {
		if p := Permission(f); slices.Contains(Permissions, p) && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// CreateAPIKey adds an API key and returns it with its secret, shown only
// now. userID "" makes a service key, whose scopes default to every
// permission; otherwise the key belongs to that staff member, and its
// scopes, which default to everything their role grants, must be within
// their role (Forbidden). It is for the command line; the dashboard uses
// CreateAPIKeyAs.
func (s *Store) CreateAPIKey(ctx context.Context, name, userID string, scopes []Permission) (APIKey, string, error) {
	if err := validName("API key", name); err != nil {
		return APIKey{}, "", err
	}
	scopes, err := checkScopes(scopes)
	if err != nil {
		return APIKey{}, "", err
	}
	var owner any // NULL for a service key
	if userID == "" {
		if len(scopes) == 0 {
			scopes = slices.Clone(Permissions)
		}
	} else {
		u, err := s.UserByID(ctx, userID)
		if err != nil {
			return APIKey{}, "", err
		}
		if u.Disabled() {
			return APIKey{}, "", fault.New(fault.Conflict, "%s is disabled: enable them before giving them keys", u.Email)
		}
		if len(scopes) == 0 {
			scopes = u.Role.Permissions()
		}
		for _, p := range scopes {
			if !u.Role.Can(p) {
				return APIKey{}, "", fault.New(fault.Forbidden, "the %s role of %s does not grant %s", u.Role, u.Email, p)
			}
		}
		owner = userID
	}
	now := s.now()
	key, hash := newSecret(apiKeyPrefix)
	k := APIKey{ID: uuid.Must(uuid.NewV7()).String(), Name: name, Prefix: display(key), UserID: userID, Scopes: scopes,
		CreatedAt: now.UTC().Truncate(time.Millisecond)}
	_, err = s.db.Exec(ctx, "INSERT INTO api_keys (id, name, hash, prefix, created_at, user_id, scopes) VALUES (?, ?, ?, ?, ?, ?, ?)",
		k.ID, k.Name, hash, k.Prefix, ms(now), owner, joinPerms(scopes))
	if err != nil {
		return APIKey{}, "", err
	}
	return k, key, nil
}

// CreateAPIKeyAs adds an API key on behalf of actor: a personal key for
// actor themselves (userID = actor.UserID), or a service key (userID "")
// if actor has SettingsWrite. Its scopes default to, and must be within,
// what actor may do now, so that nobody mints a key stronger than
// themselves.
func (s *Store) CreateAPIKeyAs(ctx context.Context, actor Principal, name, userID string, scopes []Permission) (APIKey, string, error) {
	switch {
	case userID == "" && !actor.Can(SettingsWrite):
		return APIKey{}, "", fault.New(fault.Forbidden, "service keys need the %s permission", SettingsWrite)
	case userID != "" && userID != actor.UserID:
		return APIKey{}, "", fault.New(fault.Forbidden, "you may create API keys only for yourself")
	}
	if len(scopes) == 0 {
		scopes = actor.Permissions()
	}
	for _, p := range scopes {
		if !actor.Can(p) {
			return APIKey{}, "", fault.New(fault.Forbidden, "you cannot give a key %s: you do not have it", p)
		}
	}
	return s.CreateAPIKey(ctx, name, userID, scopes)
}

// APIKeyByToken authenticates a bearer token and returns who it acts for:
// its owner narrowed to its scopes, or for a service key its scopes alone.
// Unknown and revoked keys, and keys of disabled staff members, answer
// Unauthorized.
func (s *Store) APIKeyByToken(ctx context.Context, token string) (Principal, error) {
	if token == "" {
		return Principal{}, fault.New(fault.Unauthorized, "an API key is required: Authorization: Bearer <key>")
	}
	var (
		keyID, scopes string
		revoked       sql.NullInt64
		owner         sql.NullString
	)
	err := s.db.QueryRow(ctx, "SELECT id, scopes, revoked_at, user_id FROM api_keys WHERE hash = ?", hashKey(token)).
		Scan(&keyID, &scopes, &revoked, &owner)
	if errors.Is(err, sql.ErrNoRows) || err == nil && revoked.Valid {
		return Principal{}, fault.New(fault.Unauthorized, "unknown or revoked API key")
	}
	if err != nil {
		return Principal{}, sqldb.Classify(err)
	}
	var u User
	if owner.Valid {
		u, err = s.UserByID(ctx, owner.String)
		if fault.Is(err, fault.NotFound) {
			return Principal{}, fault.New(fault.Unauthorized, "unknown or revoked API key")
		}
		if err != nil {
			return Principal{}, err
		}
		if u.Disabled() {
			return Principal{}, fault.New(fault.Unauthorized, "the owner of this API key is disabled")
		}
	}
	return NewPrincipal(u, keyID, readScopes(scopes)), nil
}

// ListAPIKeys returns the API keys of a staff member, or every key when
// userID is "", newest first.
func (s *Store) ListAPIKeys(ctx context.Context, userID string) ([]APIKey, error) {
	q := `SELECT k.id, k.name, k.prefix, COALESCE(k.user_id, ''), COALESCE(u.email, ''), k.scopes, k.created_at, k.revoked_at
		FROM api_keys k LEFT JOIN users u ON u.id = k.user_id`
	var args []any
	if userID != "" {
		q += " WHERE k.user_id = ?"
		args = append(args, userID)
	}
	rows, err := s.db.Query(ctx, q+" ORDER BY k.created_at DESC, k.id DESC", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		var (
			k       APIKey
			scopes  string
			created int64
			revoked sql.NullInt64
		)
		if err := rows.Scan(&k.ID, &k.Name, &k.Prefix, &k.UserID, &k.UserEmail, &scopes, &created, &revoked); err != nil {
			return nil, err
		}
		k.Scopes = readScopes(scopes)
		k.CreatedAt = time.UnixMilli(created).UTC()
		k.RevokedAt = timePtr(revoked)
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeAPIKey revokes every active key with the given name or id. It is
// for the command line; the dashboard uses RevokeAPIKeyAs.
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

// RevokeAPIKeyAs revokes the key with the given id on behalf of actor: their
// own key, or anyone's with SettingsWrite (Forbidden otherwise).
func (s *Store) RevokeAPIKeyAs(ctx context.Context, actor Principal, id string) error {
	var owner sql.NullString
	err := s.db.QueryRow(ctx, "SELECT user_id FROM api_keys WHERE id = ? AND revoked_at IS NULL", id).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		return fault.New(fault.NotFound, "no active API key %q", id)
	}
	if err != nil {
		return sqldb.Classify(err)
	}
	own := owner.Valid && actor.UserID != "" && owner.String == actor.UserID
	if !own && !actor.Can(SettingsWrite) {
		return fault.New(fault.Forbidden, "revoking someone else's API key needs the %s permission", SettingsWrite)
	}
	res, err := s.db.Exec(ctx, "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", ms(s.now()), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fault.New(fault.NotFound, "no active API key %q", id)
	}
	return nil
}
