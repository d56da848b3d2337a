package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/bottega-crm/bottega/internal/fault"
	"golang.org/x/crypto/argon2"
)

// Password rules.
const (
	MinPasswordChars = 10  // characters (runes)
	MaxPasswordBytes = 256 // bytes, so that hashing stays cheap
)

// argon2id parameters for new hashes: OWASP's first recommendation
// (19 MiB, 2 passes, 1 lane). Hashes keep their own parameters, so they can
// change without breaking stored passwords.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonSaltLen = 16
	argonKeyLen  = 32
)

// Bounds on the parameters read back from a stored hash: a damaged or
// hostile row must not make one sign-in allocate gigabytes.
const (
	maxArgonMemory  = 256 * 1024 // KiB
	maxArgonTime    = 10
	maxArgonThreads = 16
)

// CheckPassword reports whether a password is acceptable: at least
// MinPasswordChars characters and at most MaxPasswordBytes bytes of UTF-8.
func CheckPassword(pw string) error {
	if !utf8.ValidString(pw) {
		return fault.New(fault.Invalid, "the password is not valid UTF-8 text")
	}
	if utf8.RuneCountInString(pw) < MinPasswordChars {
		return fault.New(fault.Invalid, "the password must have at least %d characters", MinPasswordChars)
	}
	if len(pw) > MaxPasswordBytes {
		return fault.New(fault.Invalid, "the password must have at most %d bytes", MaxPasswordBytes)
	}
	return nil
}

// hashPassword returns the argon2id PHC string of pw:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
func hashPassword(pw string) string {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// argonParams are the parameters of a stored hash.
type argonParams struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

func parseHash(phc string) (argonParams, error) {
	var p argonParams
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return p, fmt.Errorf("not an argon2id v=%d PHC string", argon2.Version)
	}
	var threads uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &threads); err != nil {
		return p, fmt.Errorf("argon2id parameters %q: %w", parts[3], err)
	}
	if p.memory < 8 || p.memory > maxArgonMemory || p.time < 1 || p.time > maxArgonTime || threads < 1 || threads > maxArgonThreads {
		return p, fmt.Errorf("argon2id parameters %q out of bounds", parts[3])
	}
	p.threads = uint8(threads)
	var err error
	if p.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil || len(p.salt) < 8 {
		return p, fmt.Errorf("argon2id salt: %v", err)
	}
	if p.key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(p.key) < 16 || len(p.key) > 64 {
		return p, fmt.Errorf("argon2id hash: %v", err)
	}
	return p, nil
}

// verifyPassword reports whether pw matches the PHC string, comparing in
// constant time, and whether the hash uses other parameters than new hashes
// (it should then be replaced).
func verifyPassword(phc, pw string) (ok, stale bool) {
	p, err := parseHash(phc)
	if err != nil {
		return false, false
	}
	key := argon2.IDKey([]byte(pw), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	ok = subtle.ConstantTimeCompare(key, p.key) == 1
	stale = p.memory != argonMemory || p.time != argonTime || p.threads != argonThreads || len(p.key) != argonKeyLen
	return ok, stale
}

// passwordAlphabet has no look-alikes (0/O, 1/l/I).
const passwordAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// GeneratePassword returns a random password that is easy to read out and
// type: four groups of four characters (about 93 bits), e.g. "k7Qm-3xZp-…".
func GeneratePassword() string {
	var b strings.Builder
	buf := make([]byte, 1)
	n := 0
	for n < 16 {
		if _, err := rand.Read(buf); err != nil {
			panic("auth: crypto/rand failed: " + err.Error())
		}
		// Rejection sampling keeps every character equally likely.
		if int(buf[0]) >= 256-256%len(passwordAlphabet) {
			continue
		}
		if n > 0 && n%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(passwordAlphabet[int(buf[0])%len(passwordAlphabet)])
		n++
	}
	return b.String()
}
