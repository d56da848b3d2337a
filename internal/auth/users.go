package auth

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bottega-crm/bottega/internal/fault"
	"github.com/bottega-crm/bottega/internal/sqldb"
	"github.com/google/uuid"
)

// Locales are the languages a staff member may choose.
var Locales = []string{"en", "it"}

// usersLock serialises the changes that must keep an enabled owner.
const usersLock = 0x75736572 // "user"

// NormalizeEmail trims and lower-cases an e-mail address and checks its
// shape: something@something, at most 254 bytes, no spaces.
func NormalizeEmail(email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") || len(e) > 254 ||
		strings.ContainsFunc(e, func(r rune) bool { return r <= ' ' || r == 0x7f }) || !utf8.ValidString(e) {
		return "", fault.New(fault.Invalid, "%q is not an e-mail address", strings.TrimSpace(email))
	}
	return e, nil
}

// Operator is the machine's operator on the command line: allowed to do
// anything, and not a staff member (so never "themselves").
func Operator() Principal {
	return Principal{Name: "operator", Role: Owner, perms: Owner.Permissions()}
}

// mayManage checks that actor may give target the role role (target.Role
// is the role it has now, "" for a new user).
func mayManage(actor Principal, target User, role Role) error {
	if !actor.Can(SettingsWrite) {
		return fault.New(fault.Forbidden, "managing staff needs the %s permission", SettingsWrite)
	}
	if (target.Role == Owner || role == Owner) && actor.Role != Owner {
		return fault.New(fault.Forbidden, "only an owner may manage owners or make someone an owner")
	}
	return nil
}

// CreateUser adds a staff member. It is for the command line, whose
// operator may do anything; the dashboard uses CreateUserAs.
func (s *Store) CreateUser(ctx context.Context, email, name string, role Role, password string) (User, error) {
	return s.CreateUserAs(ctx, Operator(), email, name, role, password)
}

// CreateUserAs adds a staff member on behalf of actor, who needs
// SettingsWrite, and must be an owner to create an owner. The e-mail is
// normalised; an e-mail already taken answers Conflict.
func (s *Store) CreateUserAs(ctx context.Context, actor Principal, email, name string, role Role, password string) (User, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return User{}, err
	}
	if role, err = ParseRole(string(role)); err != nil {
		return User{}, err
	}
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > 100 || !utf8.ValidString(name) {
		return User{}, fault.New(fault.Invalid, "the name must be at most 100 characters")
	}
	if err := mayManage(actor, User{}, role); err != nil {
		return User{}, err
	}
	if err := CheckPassword(password); err != nil {
		return User{}, err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return User{}, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	u := User{ID: uuid.Must(uuid.NewV7()).String(), Email: email, Name: name, Role: role, CreatedAt: now}
	_, err = s.db.Exec(ctx, "INSERT INTO users (id, email, name, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
		u.ID, u.Email, u.Name, string(u.Role), hash, ms(now))
	if fault.Is(err, fault.Conflict) {
		return User{}, fault.New(fault.Conflict, "a staff member with e-mail %s already exists", email)
	}
	if err != nil {
		return User{}, err
	}
	return u, nil
}

const userColumns = "u.id, u.email, u.name, u.role, u.locale, u.created_at, u.disabled_at, u.last_login_at"

func scanUser(sc interface{ Scan(...any) error }, extra ...any) (User, error) {
	var (
		u                 User
		role              string
		created           int64
		disabled, lastLog sql.NullInt64
	)
	dst := append([]any{&u.ID, &u.Email, &u.Name, &role, &u.Locale, &created, &disabled, &lastLog}, extra...)
	if err := sc.Scan(dst...); err != nil {
		return User{}, err
	}
	u.Role = Role(role)
	u.CreatedAt = time.UnixMilli(created).UTC()
	u.DisabledAt = timePtr(disabled)
	u.LastLoginAt = timePtr(lastLog)
	return u, nil
}

// UserByID returns a staff member.
func (s *Store) UserByID(ctx context.Context, id string) (User, error) {
	u, err := scanUser(s.db.QueryRow(ctx, "SELECT "+userColumns+" FROM users u WHERE u.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fault.New(fault.NotFound, "no staff member with id %q", id)
	}
	return u, sqldb.Classify(err)
}

// UserByEmail returns the staff member with the given e-mail (compared
// after normalising it).
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	u, err := scanUser(s.db.QueryRow(ctx, "SELECT "+userColumns+" FROM users u WHERE u.email = ?", e))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fault.New(fault.NotFound, "no staff member with e-mail %q", e)
	}
	return u, sqldb.Classify(err)
}

// ListUsers returns every staff member, by e-mail.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := s.db.Query(ctx, "SELECT "+userColumns+" FROM users u ORDER BY u.email")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// changeUser runs change on the user in a transaction that holds the users
// lock, then checks that an enabled owner is left.
func (s *Store) changeUser(ctx context.Context, userID string, change func(tx *sqldb.Tx, u User) error) error {
	return s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		if err := tx.Lock(ctx, usersLock); err != nil {
			return err
		}
		u, err := scanUser(tx.QueryRow(ctx, "SELECT "+userColumns+" FROM users u WHERE u.id = ?", userID))
		if errors.Is(err, sql.ErrNoRows) {
			return fault.New(fault.NotFound, "no staff member with id %q", userID)
		}
		if err != nil {
			return sqldb.Classify(err)
		}
		if err := change(tx, u); err != nil {
			return err
		}
		if u.Role != Owner || u.Disabled() {
			return nil
		}
		var owners int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM users WHERE role = ? AND disabled_at IS NULL", string(Owner)).Scan(&owners); err != nil {
			return sqldb.Classify(err)
		}
		if owners == 0 {
			return fault.New(fault.Conflict, "%s is the last enabled owner: make someone else owner first", u.Email)
		}
		return nil
	})
}

// SetUserRole gives a staff member another role. actor needs SettingsWrite,
// and must be an owner to change an owner or make someone owner. The last
// enabled owner keeps their role (Conflict).
func (s *Store) SetUserRole(ctx context.Context, actor Principal, userID string, role Role) error {
	role, err := ParseRole(string(role))
	if err != nil {
		return err
	}
	return s.changeUser(ctx, userID, func(tx *sqldb.Tx, u User) error {
		if err := mayManage(actor, u, role); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "UPDATE users SET role = ? WHERE id = ?", string(role), userID)
		return err
	})
}

// SetUserDisabled disables or re-enables a staff member. Disabling ends all
// their sessions at once, and their API keys stop working (on other nodes
// within the API key cache's TTL). actor needs SettingsWrite, must be an
// owner to disable or enable an owner, and may not disable themselves; the
// last enabled owner cannot be disabled (Conflict).
func (s *Store) SetUserDisabled(ctx context.Context, actor Principal, userID string, disabled bool) error {
	if disabled && actor.UserID != "" && actor.UserID == userID {
		return fault.New(fault.Forbidden, "you cannot disable yourself")
	}
	return s.changeUser(ctx, userID, func(tx *sqldb.Tx, u User) error {
		if err := mayManage(actor, u, u.Role); err != nil {
			return err
		}
		var at any
		if disabled {
			if u.Disabled() {
				return nil
			}
			at = ms(s.now())
		}
		if _, err := tx.Exec(ctx, "UPDATE users SET disabled_at = ? WHERE id = ?", at, userID); err != nil {
			return err
		}
		if disabled {
			_, err := tx.Exec(ctx, "DELETE FROM sessions WHERE user_id = ?", userID)
			return err
		}
		return nil
	})
}

// SetPassword replaces a staff member's password and ends all their
// sessions. A signed-in staff member changing their own password uses
// ChangePassword, which keeps their current session.
func (s *Store) SetPassword(ctx context.Context, userID, password string) error {
	return s.setPassword(ctx, userID, password, "")
}

// ChangePassword replaces the password of the staff member signed in with
// the session token, after checking their current password (Invalid when
// wrong), and ends their other sessions.
func (s *Store) ChangePassword(ctx context.Context, token, current, password string) error {
	_, sess, err := s.SessionPrincipal(ctx, token)
	if err != nil {
		return err
	}
	if err := CheckPassword(password); err != nil {
		return err
	}
	var hash string
	if err := s.db.QueryRow(ctx, "SELECT password_hash FROM users WHERE id = ?", sess.UserID).Scan(&hash); err != nil {
		return sqldb.Classify(err)
	}
	ok, _, err := s.verify(ctx, hash, current)
	if err != nil {
		return err
	}
	if !ok {
		return fault.New(fault.Invalid, "the current password is wrong")
	}
	return s.setPassword(ctx, sess.UserID, password, hashKey(token))
}

func (s *Store) setPassword(ctx context.Context, userID, password, keepSession string) error {
	if err := CheckPassword(password); err != nil {
		return err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *sqldb.Tx) error {
		res, err := tx.Exec(ctx, "UPDATE users SET password_hash = ? WHERE id = ?", hash, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fault.New(fault.NotFound, "no staff member with id %q", userID)
		}
		_, err = tx.Exec(ctx, "DELETE FROM sessions WHERE user_id = ? AND hash <> ?", userID, keepSession)
		return err
	})
}

// SetLocale records the language a staff member chose: one of Locales.
func (s *Store) SetLocale(ctx context.Context, userID, locale string) error {
	ok := false
	for _, l := range Locales {
		ok = ok || l == locale
	}
	if !ok {
		return fault.New(fault.Invalid, "language %q is not one of %s", locale, strings.Join(Locales, ", "))
	}
	res, err := s.db.Exec(ctx, "UPDATE users SET locale = ? WHERE id = ?", locale, userID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fault.New(fault.NotFound, "no staff member with id %q", userID)
	}
	return nil
}
