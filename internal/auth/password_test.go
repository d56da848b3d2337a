package auth

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bottega-crm/bottega/internal/fault"
	"golang.org/x/crypto/argon2"
)

func TestPasswordHashing(t *testing.T) {
	h := hashPassword("correct horse battery")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || len(strings.Split(h, "$")) != 6 {
		t.Fatalf("hash %q", h)
	}
	if h2 := hashPassword("correct horse battery"); h2 == h {
		t.Fatal("two hashes of one password are equal: no salt?")
	}
	if ok, stale := verifyPassword(h, "correct horse battery"); !ok || stale {
		t.Fatalf("verify: %v %v", ok, stale)
	}
	for _, wrong := range []string{"", "correct horse batter", "Correct horse battery"} {
		if ok, _ := verifyPassword(h, wrong); ok {
			t.Errorf("%q verified", wrong)
		}
	}
	// Parameters are read back from the string: an older, cheaper hash still
	// verifies, and is reported stale.
	salt := []byte("0123456789abcdef")
	old := fmt.Sprintf("$argon2id$v=19$m=8192,t=1,p=2$%s$%s", base64.RawStdEncoding.EncodeToString(salt),
		base64.RawStdEncoding.EncodeToString(argon2.IDKey([]byte("pw"), salt, 1, 8192, 2, 32)))
	if ok, stale := verifyPassword(old, "pw"); !ok || !stale {
		t.Fatalf("old parameters: %v %v", ok, stale)
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=8192,t=1,p=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		strings.Replace(old, "m=8192", "m=4194304", 1), strings.Replace(old, "v=19", "v=16", 1), strings.Replace(old, "p=2", "p=0", 1)} {
		if ok, _ := verifyPassword(bad, "pw"); ok {
			t.Errorf("%q verified", bad)
		}
	}
}

func TestPasswordRules(t *testing.T) {
	for _, tc := range []struct {
		pw string
		ok bool
	}{
		{"123456789", false},
		{"1234567890", true},
		{"àèìòùàèìòù", true}, // 10 characters, 20 bytes
		{strings.Repeat("a", 256), true},
		{strings.Repeat("a", 257), false},
		{"\xff\xfe234567890", false},
	} {
		if err := CheckPassword(tc.pw); (err == nil) != tc.ok || err != nil && !fault.Is(err, fault.Invalid) {
			t.Errorf("%q: %v", tc.pw, err)
		}
	}
	seen := map[string]bool{}
	for range 50 {
		p := GeneratePassword()
		if len(p) != 19 || strings.Count(p, "-") != 3 || strings.ContainsAny(p, "0O1lI") || CheckPassword(p) != nil || seen[p] {
			t.Fatalf("generated %q", p)
		}
		seen[p] = true
	}
}

func TestLoginLimiter(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	l := NewLoginLimiter()
	l.now = func() time.Time { return now }
	// Five failed attempts for one e-mail, then a refusal with a hint.
	for i := range 5 {
		if err := l.Allow("10.0.0.1", "Anna@shop.it"); err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
		l.Failed("10.0.0.1", "anna@shop.it")
	}
	err := l.Allow("10.0.0.2", " anna@SHOP.it")
	if !fault.Is(err, fault.RateLimited) || RetryAfter(err) != 3*time.Second {
		t.Fatalf("sixth attempt: %v (retry after %v)", err, RetryAfter(err))
	}
	// Another e-mail from the same IP is fine; the refused attempt cost nothing.
	if err := l.Allow("10.0.0.1", "bruno@shop.it"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(3 * time.Second)
	if err := l.Allow("10.0.0.1", "anna@shop.it"); err != nil {
		t.Fatalf("after the hint: %v", err)
	}
	// A success gives the e-mail its budget back.
	l.Succeeded("ANNA@shop.it")
	for i := range 5 {
		if err := l.Allow("10.0.0.3", "anna@shop.it"); err != nil {
			t.Fatalf("after success, attempt %d: %v", i+1, err)
		}
		l.Failed("10.0.0.3", "anna@shop.it")
	}
	// Attempts sent in parallel, before any has failed, are counted too.
	allowed := 0
	for range 30 {
		if l.Allow("10.0.0.4", "carla@shop.it") == nil {
			allowed++
		}
	}
	if allowed != emailBurst {
		t.Fatalf("%d parallel attempts allowed; want %d", allowed, emailBurst)
	}
	// One IP failing with many e-mails is stopped by its own budget: ten
	// failures in a burst.
	refused := 0
	for i := range 20 {
		if err := l.Allow("10.0.0.9", fmt.Sprintf("u%d@shop.it", i)); fault.Is(err, fault.RateLimited) {
			refused++
		} else {
			l.Failed("10.0.0.9", fmt.Sprintf("u%d@shop.it", i))
		}
	}
	if refused != 10 {
		t.Fatalf("%d of 20 refused for one IP; want 10", refused)
	}
}

func TestMaskJSON(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"email":"chiara.ferri@example.it","name":"Chiara","n":1.50,"z":null,"ok":true}`,
			`{"email":"c***@***.it","name":"Chiara","n":1.50,"z":null,"ok":true}`},
		{`{"context":{"traits":{"Phone":"+39 340 555 1234","billing_phone":"02 1234 5678"}},"userId":"anna@shop.it","x":"a@b"}`,
			`{"context":{"traits":{"Phone":"***34","billing_phone":"***78"}},"userId":"a***@***.it","x":"a@b"}`},
		{`[{"type":"email","value":"a@b.it","original":"A@B.it"},{"type":"phone","value":"+393405551234"},{"type":"user_id","value":"c-1"}]`,
			`[{"type":"email","value":"a***@***.it","original":"A***@***.it"},{"type":"phone","value":"***34"},{"type":"user_id","value":"c-1"}]`},
		{`{"value":"+393405551234","type":"phone"}`, `{"value":"***34","type":"phone"}`},
		{`{"emails":["a@b.it","c@d.com"],"consent":{"email":{"status":"granted"}}}`,
			`{"emails":["a***@***.it","c***@***.com"],"consent":{"email":{"status":"granted"}}}`},
		{`{"b":1,"a":2,"html":"<b>&</b>"}`, `{"b":1,"a":2,"html":"<b>&</b>"}`},
		{`"x@y.it"`, `"x***@***.it"`},
		{`{"note":"write to anna@shop.it, or to b.c@d.co.uk."}`, `{"note":"write to a***@***.it, or to b***@***.uk."}`},
		{`{"email":`, `null`},
		{`{} {}`, `null`},
	} {
		if got := string(MaskJSON([]byte(tc.in))); got != tc.want {
			t.Errorf("MaskJSON(%s)\n got %s\nwant %s", tc.in, got, tc.want)
		}
	}
}
