package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"github.com/bottega-crm/bottega/internal/fault"
)

// Channels a source can feed. A source's channel is the default channel of
// its events; an event's context.channel overrides it.
var Channels = []string{"web", "app", "pos", "email", "ads", "care", "import"}

// ValidChannel reports whether c is one of Channels.
func ValidChannel(c string) bool {
	for _, x := range Channels {
		if c == x {
			return true
		}
	}
	return false
}

// Source is a producer of events: a web shop, an app, a till, a care desk.
type Source struct {
	ID         string
	Name       string
	Channel    string
	RateLimit  int // events per second; 0 = unlimited
	CreatedAt  time.Time
	DisabledAt *time.Time
	KeyPrefix  string // display prefix of the current key
}

// Disabled reports whether the source refuses events.
func (s Source) Disabled() bool { return s.DisabledAt != nil }

// APIKey is a bearer credential for the JSON API. A personal key belongs to
// a staff member and acts as them, narrowed to its scopes; a service key
// (made on the command line) belongs to nobody and may do what its scopes
// say.
type APIKey struct {
	ID        string
	Name      string
	Prefix    string
	UserID    string       // "" for a service key
	UserEmail string       // the owner's e-mail, filled by ListAPIKeys ("" for a service key)
	Scopes    []Permission // what the key may do (a personal key: at most what its owner's role grants)
	CreatedAt time.Time
	RevokedAt *time.Time
}

// Service reports whether the key belongs to no staff member.
func (k APIKey) Service() bool { return k.UserID == "" }

const (
	writeKeyPrefix = "bwk_"
	apiKeyPrefix   = "bak_"
	displayLen     = 10
)

// newSecret returns a fresh key with the given prefix and its storage hash.
func newSecret(prefix string) (key, hash string) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic("auth: crypto/rand failed: " + err.Error()) // never happens on supported platforms
	}
	key = prefix + base64.RawURLEncoding.EncodeToString(b)
	return key, hashKey(key)
}

func hashKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

func display(key string) string { return key[:min(displayLen, len(key))] + "…" }

// ValidSourceName reports whether a source name is acceptable: 1-64
// characters of letters, digits, '-', '_' and '.'.
func validName(what, name string) error {
	if name == "" || len(name) > 64 {
		return fault.New(fault.Invalid, "%s name must be 1 to 64 characters", what)
	}
	if strings.IndexFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	}) >= 0 {
		return fault.New(fault.Invalid, "%s name %q may hold only letters, digits, '-', '_' and '.'", what, name)
	}
	return nil
}
