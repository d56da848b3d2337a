// Package fault is bottega's one error vocabulary.
//
// Every error that crosses a package boundary and can reach a user carries a
// Code (what kind of failure it is), a public Message (safe to show), and an
// optional internal cause (logged, never shown). HTTP status codes are derived
// from the Code in exactly one place (httpapi), so domain packages never speak
// HTTP.
package fault

import (
	"errors"
	"fmt"
)

// Code classifies a failure.
type Code string

// The codes. Keep this list short: a new code is a new promise to clients.
const (
	Invalid      Code = "invalid"      // the input is wrong; do not retry it unchanged
	TooLarge     Code = "too_large"    // the input exceeds a size limit
	Unsupported  Code = "unsupported"  // a media type or encoding we do not accept
	Unauthorized Code = "unauthorized" // missing or wrong credentials
	Forbidden    Code = "forbidden"    // credentials fine, action not allowed
	NotFound     Code = "not_found"    // no such thing
	Conflict     Code = "conflict"     // the state does not allow it (already exists, already undone…)
	RateLimited  Code = "rate_limited" // slow down; retry later
	Unavailable  Code = "unavailable"  // storage or a dependency is down; retry later
	Internal     Code = "internal"     // a bug
)

// Error is an error with a Code and a public message.
type Error struct {
	Code    Code
	Message string // safe to show to the caller
	Cause   error  // internal detail, for logs only
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Cause }

// New returns an error with the given code and public message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error with the given code and public message whose internal
// cause is err.
func Wrap(err error, code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Cause: err}
}

// CodeOf returns the Code of the first *Error in err's chain, or Internal.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Is reports whether err carries the given code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }

// MessageOf returns the public message of err, or a generic one for errors
// that carry no *Error (their text may hold internals).
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// MessageOrText returns the message of a fault error followed by its cause,
// or the text of any other error. It is for command-line tools, whose user
// is the operator and may see internals.
func MessageOrText(err error) string {
	var e *Error
	if errors.As(err, &e) {
		if e.Cause != nil {
			return e.Message + ": " + e.Cause.Error()
		}
		return e.Message
	}
	return err.Error()
}

// HTTPStatus is the HTTP status that answers an error with code c.
func HTTPStatus(c Code) int {
	switch c {
	case Invalid:
		return 400
	case TooLarge:
		return 413
	case Unsupported:
		return 415
	case Unauthorized:
		return 401
	case Forbidden:
		return 403
	case NotFound:
		return 404
	case Conflict:
		return 409
	case RateLimited:
		return 429
	case Unavailable:
		return 503
	}
	return 500
}
