package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	config_util "github.com/prometheus/common/config"
	"github.com/prometheus/common/route"
	promconfig "github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery"
	_ "github.com/prometheus/prometheus/discovery/kubernetes" // registers kubernetes_sd_configs
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/scrape"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/storage/remote"
	"k8s.io/client-go/kubernetes"

	"github.com/outpost-platform/outpost/appliance/monitor/alerting"
	"github.com/outpost-platform/outpost/appliance/monitor/kubestate"
	"github.com/outpost-platform/outpost/appliance/monitor/nodemetrics"
	"github.com/outpost-platform/outpost/appliance/monitor/settings"
	"github.com/outpost-platform/outpost/appliance/monitor/store"
)

// Paths of the in-process metric sources, also served by Handler.
const (
	pathMonitorMetrics   = "/metrics"
	pathNodeMetrics      = "/metrics/node"
	pathKubeStateMetrics = "/metrics/kube-state"
	pathOutpostMetrics   = "/metrics/outpost"
)

// lookbackDelta is PromQL's staleness window, Prometheus's default.
const lookbackDelta = 5 * time.Minute

// remoteFlushDeadline bounds how long shutdown waits for remote_write.
const remoteFlushDeadline = 5 * time.Second

// Monitor is Outpost's monitoring. Build it with New, then call Run.
type Monitor struct {
	cfg    Config
	deps   Deps
	logger *slog.Logger
	start  time.Time

	registry *prometheus.Registry // monitoring's own metrics
	gatherer prometheus.Gatherers // registry + the TSDB's
	nodeReg  *prometheus.Registry // in-process node exporter
	kubeReg  *prometheus.Registry // in-process kube-state-metrics

	store      *store.Store
	parser     parser.Parser
	engine     *promql.Engine
	remote     *remote.Storage // nil without remote_write
	fanout     storage.Storage
	scrape     *scrape.Manager
	sdMetrics  *discovery.SDMetrics
	rules      *rules.Manager
	ruleFiles  *ruleFiles
	silences   *alerting.Silences
	dispatcher *alerting.Dispatcher
	receivers  *receiverStore
	kubeState  *kubestate.Collector
	inProcess  *memListener
	promCfg    *promconfig.Config
	apiV1      http.Handler // Prometheus's API; built once, it registers metrics

	runCtx    context.Context // cancelled when Run returns
	cancelRun context.CancelFunc
	running   atomic.Bool
	reloadNow chan struct{}
	queries   chan struct{} // semaphore bounding concurrent queries
	configMu  sync.Mutex    // serialises changes of the alerting config
}

// New builds a Monitor. It fails only on invalid configuration: problems
// with the TSDB, the disk or the cluster are handled while running.
func New(cfg Config, deps Deps) (*Monitor, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("monitoring config: %w", err)
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.NodeName == "" {
		deps.NodeName, _ = os.Hostname()
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating monitoring dir: %w", err)
	}
	m := &Monitor{
		cfg: cfg, deps: deps, logger: deps.Logger.With("component", "monitor"), start: time.Now(),
		registry: prometheus.NewRegistry(), nodeReg: prometheus.NewRegistry(), kubeReg: prometheus.NewRegistry(),
		inProcess: newMemListener(), reloadNow: make(chan struct{}, 1),
		queries: make(chan struct{}, cfg.MaxConcurrentQueries),
	}
	m.runCtx, m.cancelRun = context.WithCancel(context.Background())

	m.store, err = store.New(store.Options{
		Dir: filepath.Join(cfg.Dir, "tsdb"), Retention: cfg.Retention, RetentionSize: cfg.RetentionSize,
		MinFreeBytes: cfg.MinFreeDiskBytes, SamplesPerChunk: cfg.SamplesPerChunk, Logger: m.logger, Registerer: m.registry,
	})
	if err != nil {
		return nil, err
	}
	m.gatherer = prometheus.Gatherers{m.registry, m.store.Gatherer()}

	m.parser = parser.NewParser(parser.Options{})
	m.engine = promql.NewEngine(promql.EngineOpts{
		Logger: m.logger.With("component", "query engine"), Reg: m.registry,
		MaxSamples: cfg.QueryMaxSamples, Timeout: cfg.QueryTimeout, LookbackDelta: lookbackDelta,
		EnableAtModifier: true, EnableNegativeOffset: true, Parser: m.parser,
		NoStepSubqueryIntervalFn: func(int64) int64 { return cfg.EvaluationInterval.Milliseconds() },
	})

	node, err := nodemetrics.New(nodemetrics.Options{CertificateFiles: cfg.CertificateFiles, Volumes: cfg.Volumes, Logger: m.logger})
	if err != nil {
		m.logger.Warn("node metrics are unavailable", "err", err)
	} else if err := m.nodeReg.Register(node); err != nil {
		return nil, fmt.Errorf("registering node metrics: %w", err)
	}

	kubeconfigPath := ""
	if deps.KubeConfig != nil {
		kubeconfigPath = filepath.Join(cfg.Dir, "kubeconfig")
		if err := writeKubeconfig(kubeconfigPath, deps.KubeConfig); err != nil {
			return nil, err
		}
		client, err := kubernetes.NewForConfig(deps.KubeConfig)
		if err != nil {
			return nil, fmt.Errorf("creating Kubernetes client for monitoring: %w", err)
		}
		m.kubeState = kubestate.New(client, m.logger.With("component", "kube-state"))
		if err := m.kubeReg.Register(m.kubeState); err != nil {
			return nil, fmt.Errorf("registering object-state metrics: %w", err)
		}
	}

	m.promCfg, err = buildPromConfig(&cfg, deps.NodeName, kubeconfigPath, deps.Gatherer != nil, m.kubeState != nil, m.logger)
	if err != nil {
		return nil, err
	}

	m.fanout = m.store
	if len(cfg.RemoteWrite) > 0 {
		// A short flush deadline: an unreachable central Prometheus must not
		// hold up the appliance's shutdown; the WAL keeps what was not sent.
		m.remote = remote.NewStorage(m.logger.With("component", "remote"), m.registry, m.store.StartTime,
			m.store.Dir(), remoteFlushDeadline, readyScrape{m}, false)
		m.store.SetWriteNotified(m.remote)
		m.fanout = storage.NewFanout(m.logger, m.store, m.remote)
	}

	m.scrape, err = scrape.NewManager(&scrape.Options{
		DiscoveryReloadOnStartup: true,
		HTTPClientOptions:        []config_util.HTTPClientOption{config_util.WithDialContextFunc(m.inProcess.dialContext)},
	}, m.logger.With("component", "scrape manager"), nil, nil, m.fanout, m.registry)
	if err != nil {
		return nil, fmt.Errorf("creating scrape manager: %w", err)
	}
	m.sdMetrics, err = discovery.CreateAndRegisterSDMetrics(m.registry)
	if err != nil {
		return nil, fmt.Errorf("creating service discovery metrics: %w", err)
	}

	externalURL, _ := url.Parse(cfg.ExternalURL) // validated in withDefaults
	m.rules = rules.NewManager(&rules.ManagerOptions{
		ExternalURL: externalURL, QueryFunc: rules.EngineQueryFunc(m.engine, m.store), NotifyFunc: m.sendAlerts,
		Context: m.runCtx, Appendable: m.fanout, Queryable: m.store, Logger: m.logger.With("component", "rule manager"),
		Registerer: m.registry, OutageTolerance: time.Hour, ForGracePeriod: 10 * time.Minute,
		ResendDelay: cfg.AlertResendDelay, Parser: m.parser,
	})
	m.ruleFiles = newRuleFiles(cfg.Dir, cfg.RuleFilesDir, cfg.ScrapeInterval, m.parser, m.logger)

	m.silences = openSilences(filepath.Join(cfg.Dir, "silences.json"), m.logger)
	m.receivers = openReceiverStore(filepath.Join(cfg.Dir, "receivers.yaml"), m.logger)
	m.dispatcher, err = alerting.NewDispatcher(alerting.Options{
		Config: m.mergedAlerting(m.receivers.list()), Silences: m.silences, ExternalURL: cfg.ExternalURL,
		Logger: m.logger.With("component", "alerting"), Registerer: m.registry,
	})
	if err != nil {
		return nil, fmt.Errorf("alerting config: %w", err)
	}
	router := route.New()
	m.prometheusAPI().Register(router.WithPrefix("/api/v1"))
	m.apiV1 = router
	return m, nil
}

// openSilences loads the silences; a damaged file is moved aside rather
// than failing monitoring.
func openSilences(path string, logger *slog.Logger) *alerting.Silences {
	s, err := alerting.OpenSilences(path, nil)
	if err == nil {
		return s
	}
	aside := fmt.Sprintf("%s.broken-%d", path, time.Now().Unix())
	_ = os.Rename(path, aside)
	logger.Error("silences could not be read; moved the file aside and starting without them", "moved_to", aside, "err", err)
	s, _ = alerting.OpenSilences(path, nil) // the path no longer exists: cannot fail
	return s
}

// mergedAlerting is the YAML alerting config plus the API receivers. A YAML
// receiver wins over an API receiver of the same name.
func (m *Monitor) mergedAlerting(api []settings.Receiver) settings.Alerting {
	a := m.cfg.Alerting
	a.Receivers = append([]settings.Receiver(nil), a.Receivers...)
	for _, r := range api {
		if m.yamlReceiver(r.Name) != nil {
			m.logger.Warn("an API-managed alert receiver has the name of one in the config file; the config file's wins", "receiver", r.Name)
			continue
		}
		a.Receivers = append(a.Receivers, r)
	}
	return a
}

func (m *Monitor) yamlReceiver(name string) *settings.Receiver {
	for i := range m.cfg.Alerting.Receivers {
		if m.cfg.Alerting.Receivers[i].Name == name {
			return &m.cfg.Alerting.Receivers[i]
		}
	}
	return nil
}

// readyScrape hands the scrape manager to remote write (for metadata).
type readyScrape struct{ m *Monitor }

func (r readyScrape) Get() (*scrape.Manager, error) { return r.m.scrape, nil }

// Gatherer returns monitoring's own metrics (TSDB, scrape, rules, queries,
// notifications), for an outside Prometheus or the appliance's /metrics.
func (m *Monitor) Gatherer() prometheus.Gatherer { return m.gatherer }

// Run runs monitoring until ctx is done and returns nil then. Failures
// inside monitoring are logged, retried and exported as metrics; they are
// not returned, so they never stop the appliance. Run may be called once.
func (m *Monitor) Run(ctx context.Context) error {
	if m.running.Swap(true) {
		return errors.New("monitor is already running")
	}
	defer m.cancelRun()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	goFn := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}

	goFn(func() { m.store.Run(ctx) })
	goFn(func() { serveInProcess(ctx, m.inProcess, m.inProcessHandler()) })
	goFn(func() { m.dispatcher.Run(ctx) })
	if m.kubeState != nil {
		goFn(func() { m.kubeState.Run(ctx) })
	}
	if m.cfg.Listen != "" {
		goFn(func() { m.serveHTTP(ctx) })
	}

	// Scraping and rules start once samples can be stored: appends would
	// be refused before, and restoring alert state needs the TSDB.
	select {
	case <-ctx.Done():
		wg.Wait()
		return nil
	case <-m.store.Ready():
	}

	if m.remote != nil {
		if err := m.remote.ApplyConfig(m.promCfg); err != nil {
			m.logger.Error("remote_write is not running", "err", err)
		}
	}
	sdManager := discovery.NewManager(ctx, m.logger.With("component", "discovery"), m.registry, m.sdMetrics, discovery.Name("scrape"))
	if sdManager == nil {
		m.logger.Error("service discovery could not start; scraping is off")
	} else {
		if err := m.applyScrapeConfig(sdManager); err != nil {
			m.logger.Error("applying scrape config", "err", err)
		}
		goFn(func() { _ = sdManager.Run() })
		goFn(func() { _ = m.scrape.Run(sdManager.SyncCh()) })
	}
	m.reloadRules()
	goFn(m.rules.Run)
	goFn(func() { m.watchRuleFiles(ctx) })

	m.logger.Info("monitoring running", "listen", m.cfg.Listen, "scrape_interval", m.cfg.ScrapeInterval,
		"retention", m.cfg.Retention, "targets", len(m.promCfg.ScrapeConfigs))
	<-ctx.Done()

	m.scrape.Stop()
	m.rules.Stop()
	if m.remote != nil {
		if err := m.remote.Close(); err != nil {
			m.logger.Warn("closing remote_write", "err", err)
		}
	}
	wg.Wait()
	return nil
}

func (m *Monitor) applyScrapeConfig(sd *discovery.Manager) error {
	scs, err := scrapeConfigsOf(m.promCfg)
	if err != nil {
		return err
	}
	sdConfigs := map[string]discovery.Configs{}
	for _, sc := range scs {
		sdConfigs[sc.JobName] = sc.ServiceDiscoveryConfigs
	}
	if err := sd.ApplyConfig(sdConfigs); err != nil {
		return fmt.Errorf("applying discovery config: %w", err)
	}
	if err := m.scrape.ApplyConfig(m.promCfg); err != nil {
		return fmt.Errorf("applying scrape config: %w", err)
	}
	return nil
}

// reloadRules syncs the rule files and, if they changed, loads them. A set
// the rule manager refuses leaves the previous rules running.
func (m *Monitor) reloadRules() {
	files, changed, err := m.ruleFiles.sync()
	if err != nil {
		m.logger.Error("reading rule files", "err", err)
		return
	}
	if !changed {
		return
	}
	if err := m.rules.Update(m.cfg.EvaluationInterval, files, labels.FromMap(m.cfg.ExternalLabels), m.cfg.ExternalURL, nil); err != nil {
		m.ruleFiles.markLoadFailure(err)
		m.logger.Error("rule files not loaded; the previous rules keep running", "err", err)
		return
	}
	m.logger.Info("rule files loaded", "files", len(files))
}

func (m *Monitor) watchRuleFiles(ctx context.Context) {
	t := time.NewTicker(m.cfg.RuleReloadInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-m.reloadNow:
		}
		m.reloadRules()
	}
}

// requestRuleReload asks the watcher to reload now.
func (m *Monitor) requestRuleReload() {
	select {
	case m.reloadNow <- struct{}{}:
	default:
	}
}

// sendAlerts hands alerts from rule evaluation to the dispatcher. A firing
// alert is valid until ValidUntil; rule evaluation resends it before then.
func (m *Monitor) sendAlerts(_ context.Context, expr string, alerts ...*rules.Alert) {
	out := make([]alerting.Alert, 0, len(alerts))
	for _, a := range alerts {
		l := a.Labels.Map()
		for k, v := range m.cfg.ExternalLabels {
			if _, ok := l[k]; !ok {
				l[k] = v
			}
		}
		na := alerting.Alert{Labels: l, Annotations: a.Annotations.Map(), StartsAt: a.FiredAt,
			GeneratorURL: m.cfg.ExternalURL + "/graph?g0.expr=" + url.QueryEscape(expr) + "&g0.tab=1"}
		if !a.ResolvedAt.IsZero() {
			na.EndsAt = a.ResolvedAt
		} else {
			na.EndsAt = a.ValidUntil
		}
		out = append(out, na)
	}
	m.dispatcher.Put(out...)
}

func (m *Monitor) serveHTTP(ctx context.Context) {
	srv := &http.Server{Handler: m.listenerHandler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	for {
		ln, err := net.Listen("tcp", m.cfg.Listen)
		if err == nil {
			m.logger.Info("monitoring API listening", "addr", ln.Addr().String())
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				m.logger.Error("monitoring API server stopped", "err", err)
			}
			if ctx.Err() != nil {
				return
			}
			continue
		}
		// Another program (an existing Prometheus?) may hold the port:
		// monitoring keeps collecting and retries the port.
		m.logger.Error("monitoring API cannot listen; retrying in 30s", "addr", m.cfg.Listen, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(30 * time.Second):
		}
	}
}
