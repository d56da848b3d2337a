package auth

import "time"

// User is a staff member who signs in to the dashboard.
type User struct {
	ID          string
	Email       string // normalised: trimmed, lower case
	Name        string
	Role        Role
	Locale      string // "en" or "it"; "" until the user chooses
	CreatedAt   time.Time
	DisabledAt  *time.Time
	LastLoginAt *time.Time
}

// Disabled reports whether the user may no longer sign in.
func (u User) Disabled() bool { return u.DisabledAt != nil }
