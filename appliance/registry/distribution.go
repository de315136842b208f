package registry

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem" // the only storage driver Outpost uses
	"github.com/sirupsen/logrus"
)

// newDistributionApp builds distribution's registry app over the
// filesystem storage in dir. Distribution logs through logrus's standard
// logger (its context logger key is internal); see BridgeLogrus.
func newDistributionApp(dir, secret string, logger *slog.Logger) (http.Handler, func() error, error) {
	conf := &configuration.Configuration{}
	conf.Storage = configuration.Storage{
		"filesystem": configuration.Parameters{"rootdirectory": dir},
		"delete":     configuration.Parameters{"enabled": true},
		"redirect":   configuration.Parameters{"disable": true},
		"maintenance": configuration.Parameters{
			// Abandoned uploads are removed after a week.
			"uploadpurging": map[any]any{"enabled": true, "age": "168h", "interval": "24h", "dryrun": false},
		},
	}
	conf.HTTP.Secret = secret
	conf.Catalog.MaxEntries = 1000
	conf.Tags.MaxTags = 1000
	var app *handlers.App
	var err error
	func() {
		// NewApp panics on configuration errors; turn that into an error.
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("starting registry storage in %s: %v", dir, r)
			}
		}()
		app = handlers.NewApp(context.Background(), conf)
	}()
	if err != nil {
		return nil, nil, err
	}
	return app, app.Shutdown, nil
}

// BridgeLogrus sends logrus's standard logger, which distribution (and
// kine, and containerd's client code) log through, to logger. Distribution's
// per-request "response completed" lines are dropped; other info lines and
// above are kept. It changes process-wide state: the server calls it once
// at start.
func BridgeLogrus(logger *slog.Logger) {
	logrus.SetOutput(discard{})
	logrus.SetLevel(logrus.InfoLevel)
	logrus.StandardLogger().ReplaceHooks(logrus.LevelHooks{})
	logrus.AddHook(slogHook{logger: logger})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

type slogHook struct{ logger *slog.Logger }

func (slogHook) Levels() []logrus.Level { return logrus.AllLevels }

func (h slogHook) Fire(e *logrus.Entry) error {
	if e.Message == "response completed" {
		return nil
	}
	level := slog.LevelInfo
	switch {
	case e.Level <= logrus.ErrorLevel:
		level = slog.LevelError
	case e.Level == logrus.WarnLevel:
		level = slog.LevelWarn
	case e.Level >= logrus.DebugLevel:
		level = slog.LevelDebug
	}
	attrs := make([]any, 0, 2*len(e.Data))
	for k, v := range e.Data {
		if k == "go.version" {
			continue
		}
		attrs = append(attrs, k, v)
	}
	h.logger.Log(context.Background(), level, e.Message, attrs...)
	return nil
}
