package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

// defaultAddr is where serve listens when no address is given; the e2e
// manifests and Services target this port.
const defaultAddr = ":8080"

// getTimeout bounds one `http get`, so a test that probes an unreachable
// Service fails in seconds instead of hanging on a TCP connect.
const getTimeout = 10 * time.Second

const usage = `usage: http serve [addr] | get URL | write FILE TEXT | read FILE |
            sleep [DURATION] | crash [SECONDS] | burn [DURATION]
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	var exit exitError
	switch {
	case errors.As(err, &exit):
		fmt.Fprintln(os.Stderr, "http:", err)
		os.Exit(int(exit.code))
	case err != nil:
		fmt.Fprintln(os.Stderr, "http:", err)
		os.Exit(1)
	}
}

// exitError asks main for a specific exit status.
type exitError struct {
	code   uint8
	reason string
}

func (e exitError) Error() string { return e.reason }

// run executes one verb; ctx is cancelled on SIGINT/SIGTERM.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return exitError{code: 2, reason: "missing verb\n" + usage}
	}
	verb, rest := args[0], args[1:]
	switch verb {
	case "serve":
		addr := defaultAddr
		if len(rest) > 0 {
			addr = rest[0]
		}
		return serve(ctx, addr)
	case "get":
		if len(rest) != 1 {
			return exitError{code: 2, reason: "get needs exactly one URL"}
		}
		return get(ctx, rest[0], stdout)
	case "write":
		if len(rest) != 2 {
			return exitError{code: 2, reason: "write needs FILE and TEXT"}
		}
		if err := os.WriteFile(rest[0], []byte(rest[1]+"\n"), 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", rest[0], err)
		}
		return nil
	case "read":
		if len(rest) != 1 {
			return exitError{code: 2, reason: "read needs exactly one FILE"}
		}
		data, err := os.ReadFile(rest[0])
		if err != nil {
			return fmt.Errorf("reading %s: %w", rest[0], err)
		}
		_, err = stdout.Write(data)
		return err
	case "sleep":
		d, forever, err := optionalDuration(rest)
		if err != nil {
			return err
		}
		if forever {
			<-ctx.Done()
			return nil
		}
		sleep(ctx, d)
		return nil
	case "crash":
		seconds := 5
		if len(rest) > 0 {
			n, err := strconv.Atoi(rest[0])
			if err != nil || n < 0 {
				return exitError{code: 2, reason: fmt.Sprintf("crash: %q is not a number of seconds", rest[0])}
			}
			seconds = n
		}
		sleep(ctx, time.Duration(seconds)*time.Second)
		if ctx.Err() != nil {
			return nil // stopped before crashing: a clean termination
		}
		return exitError{code: 1, reason: fmt.Sprintf("crashing on purpose after %ds", seconds)}
	case "burn":
		d, forever, err := optionalDuration(rest)
		if err != nil {
			return err
		}
		if forever {
			d = 0
		} else if d <= 0 {
			return nil
		}
		burn(ctx, d)
		return nil
	default:
		return exitError{code: 2, reason: fmt.Sprintf("unknown verb %q\n%s", verb, usage)}
	}
}

// optionalDuration parses the single optional DURATION argument; forever
// is true when it is absent.
func optionalDuration(args []string) (d time.Duration, forever bool, err error) {
	if len(args) == 0 {
		return 0, true, nil
	}
	d, err = time.ParseDuration(args[0])
	if err != nil {
		// A bare number is taken as seconds, as sleep(1) does.
		n, numErr := strconv.Atoi(args[0])
		if numErr != nil {
			return 0, false, exitError{code: 2, reason: fmt.Sprintf("%q is not a duration", args[0])}
		}
		d = time.Duration(n) * time.Second
	}
	return d, false, nil
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}

// burn spins one goroutine (so one CPU) until d passes (forever when d is
// zero) or ctx ends. The
// deadline is checked only every few thousand iterations to keep the loop
// a pure CPU load.
func burn(ctx context.Context, d time.Duration) {
	var deadline time.Time
	if d > 0 {
		deadline = time.Now().Add(d)
	}
	x := uint64(1)
	for {
		for range 1 << 16 {
			x = x*6364136223846793005 + 1442695040888963407
		}
		if ctx.Err() != nil || (!deadline.IsZero() && time.Now().After(deadline)) {
			// Using x keeps the compiler from removing the loop.
			if x == 0 {
				fmt.Fprintln(os.Stderr, "http: burn: improbable zero")
			}
			return
		}
	}
}

// newHandler answers "/" with the host name (the pod name inside
// Kubernetes), which is how tests tell replicas apart behind a Service.
func newHandler(hostname string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "hello from "+hostname+"\n")
	})
	return mux
}

// serve runs the HTTP server until ctx ends, then drains connections for up
// to five seconds (well inside the pod's termination grace period).
func serve(ctx context.Context, addr string) error {
	hostname, err := os.Hostname()
	if err != nil {
		return fmt.Errorf("reading hostname: %w", err)
	}
	server := &http.Server{
		Addr:              addr,
		Handler:           newHandler(hostname),
		ReadHeaderTimeout: 10 * time.Second,
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- server.ListenAndServe() }()
	fmt.Fprintf(os.Stderr, "http: serving on %s as %s\n", addr, hostname)
	select {
	case err := <-serveErr:
		return fmt.Errorf("serving on %s: %w", addr, err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := server.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutting down server on %s: %w", addr, err)
	}
	return nil
}

// get fetches url and copies the body to stdout.
func get(ctx context.Context, url string, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, getTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("building request for %s: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("getting %s: %w", url, err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(stdout, resp.Body); err != nil {
		return fmt.Errorf("reading body of %s: %w", url, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("getting %s: status %s", url, resp.Status)
	}
	return nil
}
