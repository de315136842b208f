package console

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/outpost-platform/outpost/appliance/console/problem"
)

// errorBody is the JSON shape of every API error.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

var kindStatus = map[problem.Kind]int{
	problem.KindInvalid:                http.StatusBadRequest,
	problem.KindUnauthenticated:        http.StatusUnauthorized,
	problem.KindForbidden:              http.StatusForbidden,
	problem.KindNotFound:               http.StatusNotFound,
	problem.KindConflict:               http.StatusConflict,
	problem.KindTooManyRequests:        http.StatusTooManyRequests,
	problem.KindUnavailable:            http.StatusServiceUnavailable,
	problem.KindPasswordChangeRequired: http.StatusForbidden,
}

// describe maps any error to a status and the body the user sees. Errors
// that are not domain errors are internal: the user gets one generic
// sentence and the log gets the details.
func describe(err error) (int, errorDetail, *problem.Error) {
	if p, ok := problem.As(err); ok {
		status := kindStatus[p.Kind]
		if status == 0 {
			status = http.StatusInternalServerError
		}
		code := p.Code
		if code == "" {
			code = "error"
		}
		return status, errorDetail{Code: code, Message: p.Message, Fields: p.Fields}, p
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		msg := http.StatusText(he.Code)
		if s, ok := he.Message.(string); ok && s != "" {
			msg = s
		}
		code := map[int]string{
			http.StatusNotFound:              "not_found",
			http.StatusMethodNotAllowed:      "method_not_allowed",
			http.StatusRequestEntityTooLarge: "too_large",
			http.StatusBadRequest:            "invalid",
			http.StatusUnsupportedMediaType:  "unsupported_media_type",
		}[he.Code]
		if code == "" {
			code = "error"
		}
		if he.Code == http.StatusNotFound {
			msg = "The requested resource was not found."
		}
		return he.Code, errorDetail{Code: code, Message: msg}, nil
	}
	if errors.Is(err, context.Canceled) {
		// The client went away; the status is never seen.
		return 499, errorDetail{Code: "canceled", Message: "The request was canceled."}, nil
	}
	return http.StatusInternalServerError, errorDetail{Code: "internal",
		Message: "Something went wrong on the server; the details are in the server log."}, nil
}

// errorHandler is the one place where errors become HTTP responses.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		status, body, p := describe(err)
		if status >= 500 {
			log.Error("console request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		}
		if p != nil && p.RetryAfterSeconds > 0 {
			c.Response().Header().Set("Retry-After", strconv.Itoa(p.RetryAfterSeconds))
		}
		if status == 499 {
			return
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		_ = c.JSON(status, errorBody{Error: body})
	}
}
