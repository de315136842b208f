package problem

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Kind classifies an error for the HTTP layer.
type Kind int

const (
	// KindInvalid is a user mistake in the request; Fields says which.
	KindInvalid Kind = iota + 1
	// KindUnauthenticated means no valid session or token.
	KindUnauthenticated
	// KindForbidden means the caller may see the object but not do this.
	KindForbidden
	// KindNotFound means the object does not exist or the caller may not
	// know that it exists; the two are deliberately indistinguishable.
	KindNotFound
	// KindConflict means the object exists already or changed meanwhile.
	KindConflict
	// KindTooManyRequests means the caller must wait (RetryAfterSeconds).
	KindTooManyRequests
	// KindUnavailable means a component the request needs is not running.
	KindUnavailable
	// KindPasswordChangeRequired means the account must set a new password
	// before it may do anything else.
	KindPasswordChangeRequired
)

// Error is a domain error that reaches the user as one clear sentence.
type Error struct {
	Kind Kind
	// Code is a stable machine-readable identifier (also the key the web UI
	// uses to translate Message).
	Code    string
	Message string
	// Fields maps a request field (JSON name) to why it was rejected.
	Fields map[string]string
	// RetryAfterSeconds is set for KindTooManyRequests.
	RetryAfterSeconds int
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+e.Fields[k])
	}
	return e.Message + " (" + strings.Join(parts, "; ") + ")"
}

// Is makes errors.Is(err, problem.ErrNotFound) match any error of the same kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == "" && t.Kind == e.Kind
}

// Sentinels for errors.Is checks on kind only.
var (
	ErrNotFound  = &Error{Kind: KindNotFound}
	ErrForbidden = &Error{Kind: KindForbidden}
	ErrConflict  = &Error{Kind: KindConflict}
	ErrInvalid   = &Error{Kind: KindInvalid}
)

// NotFound says that the named kind of object (e.g. "project") does not exist
// or is not visible to the caller.
func NotFound(what string) *Error {
	return &Error{Kind: KindNotFound, Code: "not_found", Message: fmt.Sprintf("The %s was not found.", what)}
}

// Forbidden says the caller's role does not allow the action.
func Forbidden(message string) *Error {
	return &Error{Kind: KindForbidden, Code: "forbidden", Message: message}
}

// Conflict says the request clashes with the current state.
func Conflict(message string) *Error {
	return &Error{Kind: KindConflict, Code: "conflict", Message: message}
}

// Unauthenticated says the caller must log in.
func Unauthenticated(message string) *Error {
	return &Error{Kind: KindUnauthenticated, Code: "unauthenticated", Message: message}
}

// Unavailable says a needed component is not running.
func Unavailable(message string) *Error {
	return &Error{Kind: KindUnavailable, Code: "unavailable", Message: message}
}

// Field returns an invalid-input error for one field.
func Field(field, reason string) *Error {
	return &Error{Kind: KindInvalid, Code: "invalid", Message: "Some fields are not valid.", Fields: map[string]string{field: reason}}
}

// Fields collects per-field reasons; Err returns nil when nothing was added.
type Fields map[string]string

// Add records reason for field unless one is already recorded.
func (f Fields) Add(field, reason string) {
	if _, ok := f[field]; !ok {
		f[field] = reason
	}
}

// Err returns the collected reasons as one invalid-input error, or nil.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Kind: KindInvalid, Code: "invalid", Message: "Some fields are not valid.", Fields: map[string]string(f)}
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var p *Error
	ok := errors.As(err, &p)
	return p, ok
}
