package kube

import (
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/outpost-platform/outpost/appliance/console/problem"
)

// ErrNotReady is returned while the caches have not synced.
var ErrNotReady = problem.Unavailable("The cluster is not available yet; try again in a moment.")

// translate turns an apiserver error into a console domain error with a
// sentence the user can act on. what names the object ("deployment web").
func translate(err error, what string) error {
	if err == nil {
		return nil
	}
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return fmt.Errorf("%s: %w", what, err)
	}
	s := status.Status()
	switch s.Reason {
	case metav1.StatusReasonNotFound:
		return problem.NotFound(kindOf(what))
	case metav1.StatusReasonAlreadyExists:
		return &problem.Error{Kind: problem.KindConflict, Code: "conflict", Message: fmt.Sprintf("The %s already exists.", what),
			Fields: map[string]string{"name": "is already taken"}}
	case metav1.StatusReasonConflict:
		return problem.Conflict(fmt.Sprintf("The %s was changed by someone else meanwhile; reload and try again.", what))
	case metav1.StatusReasonForbidden:
		return problem.Forbidden(fmt.Sprintf("Kubernetes refused this change to the %s for your account.", what))
	case metav1.StatusReasonInvalid, metav1.StatusReasonBadRequest, metav1.StatusReasonRequestEntityTooLarge,
		metav1.StatusReasonUnsupportedMediaType, metav1.StatusReasonNotAcceptable:
		fields := map[string]string{}
		if s.Details != nil {
			for _, c := range s.Details.Causes {
				field := c.Field
				if field == "" {
					field = "spec"
				}
				if _, dup := fields[field]; !dup {
					fields[field] = c.Message
				}
			}
		}
		msg := s.Message
		if msg == "" {
			msg = fmt.Sprintf("Kubernetes rejected the %s.", what)
		}
		return &problem.Error{Kind: problem.KindInvalid, Code: "invalid", Message: msg, Fields: fields}
	case metav1.StatusReasonTimeout, metav1.StatusReasonServerTimeout, metav1.StatusReasonServiceUnavailable:
		return problem.Unavailable("The cluster did not answer in time; try again.")
	}
	return fmt.Errorf("%s: %w", what, err)
}

func kindOf(what string) string {
	if k, _, ok := strings.Cut(what, " "); ok {
		return k
	}
	return what
}
