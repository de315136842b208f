package kube

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	netlisters "k8s.io/client-go/listers/networking/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/transport"
)

// Identity is the Kubernetes user the console acts as for one request.
type Identity struct {
	User   string
	Groups []string
}

// Change reports an object added, modified or deleted in the caches; Object
// is its view (nil for deletions).
type Change struct {
	Kind      string
	Namespace string
	Type      string // ADDED, MODIFIED, DELETED
	Name      string
	Object    any
}

// Options tune a Cluster.
type Options struct {
	// Logger receives warnings; default slog.Default().
	Logger *slog.Logger
	// OnChange is called for each cache change once the caches have synced.
	// It must not block.
	OnChange func(Change)
}

// Cluster is the console's view of one Kubernetes cluster.
type Cluster struct {
	base      *rest.Config
	baseRT    http.RoundTripper
	admin     kubernetes.Interface
	discovery discovery.CachedDiscoveryInterface
	mapper    *restmapper.DeferredDiscoveryRESTMapper
	log       *slog.Logger
	onChange  func(Change)

	factory      informers.SharedInformerFactory
	namespaces   corelisters.NamespaceLister
	nodes        corelisters.NodeLister
	pods         corelisters.PodLister
	services     corelisters.ServiceLister
	configMaps   corelisters.ConfigMapLister
	secrets      corelisters.SecretLister
	pvcs         corelisters.PersistentVolumeClaimLister
	events       corelisters.EventLister
	deployments  appslisters.DeploymentLister
	replicaSets  appslisters.ReplicaSetLister
	statefulSets appslisters.StatefulSetLister
	daemonSets   appslisters.DaemonSetLister
	jobs         batchlisters.JobLister
	cronJobs     batchlisters.CronJobLister
	ingresses    netlisters.IngressLister
	storage      storagelisters.StorageClassLister

	encoded *encodedCache

	ready         atomic.Bool
	versionMu     sync.Mutex
	serverVersion string
}

// New prepares access with cfg, whose credentials must be allowed to
// impersonate users and groups (the admin kubeconfig).
func New(cfg *rest.Config, opts Options) (*Cluster, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	base := rest.CopyConfig(cfg)
	// The console serves many users from one process: client-go's default
	// of 5 requests/s would queue them behind each other.
	base.QPS, base.Burst = 200, 400
	base.UserAgent = "outpost-console"
	admin, err := kubernetes.NewForConfig(base)
	if err != nil {
		return nil, fmt.Errorf("creating Kubernetes client: %w", err)
	}
	rt, err := rest.TransportFor(base)
	if err != nil {
		return nil, fmt.Errorf("creating Kubernetes transport: %w", err)
	}
	disc := memory.NewMemCacheClient(admin.Discovery())
	c := &Cluster{base: base, baseRT: rt, admin: admin, discovery: disc,
		mapper: restmapper.NewDeferredDiscoveryRESTMapper(disc), log: opts.Logger, onChange: opts.OnChange, encoded: newEncodedCache()}
	c.factory = informers.NewSharedInformerFactoryWithOptions(admin, 0, informers.WithTransform(stripManagedFields))
	f := c.factory
	c.namespaces = f.Core().V1().Namespaces().Lister()
	c.nodes = f.Core().V1().Nodes().Lister()
	c.pods = f.Core().V1().Pods().Lister()
	c.services = f.Core().V1().Services().Lister()
	c.configMaps = f.Core().V1().ConfigMaps().Lister()
	c.secrets = f.Core().V1().Secrets().Lister()
	c.pvcs = f.Core().V1().PersistentVolumeClaims().Lister()
	c.events = f.Core().V1().Events().Lister()
	c.deployments = f.Apps().V1().Deployments().Lister()
	c.replicaSets = f.Apps().V1().ReplicaSets().Lister()
	c.statefulSets = f.Apps().V1().StatefulSets().Lister()
	c.daemonSets = f.Apps().V1().DaemonSets().Lister()
	c.jobs = f.Batch().V1().Jobs().Lister()
	c.cronJobs = f.Batch().V1().CronJobs().Lister()
	c.ingresses = f.Networking().V1().Ingresses().Lister()
	c.storage = f.Storage().V1().StorageClasses().Lister()
	c.watchChanges()
	return c, nil
}

// stripManagedFields keeps the caches small: server-side-apply bookkeeping
// is never shown and can be half of an object's size.
func stripManagedFields(obj any) (any, error) {
	if acc, err := meta.Accessor(obj); err == nil {
		acc.SetManagedFields(nil)
	}
	return obj, nil
}

// Ready reports whether the caches have synced.
func (c *Cluster) Ready() bool { return c.ready.Load() }

// Run waits for the apiserver, installs the console's ClusterRoles, starts
// the informers and marks the cluster ready once they have synced. It
// returns when ctx ends.
func (c *Cluster) Run(ctx context.Context) {
	delay := time.Second
	for {
		v, err := c.admin.Discovery().ServerVersion()
		if err == nil {
			err = c.ensureClusterRBAC(ctx)
			if err == nil {
				c.versionMu.Lock()
				c.serverVersion = v.GitVersion
				c.versionMu.Unlock()
				break
			}
		}
		c.log.Info("console waiting for the apiserver", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, 15*time.Second)
	}
	c.factory.Start(ctx.Done())
	for typ, ok := range c.factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			c.log.Warn("console cache did not sync", "type", typ.String())
			return
		}
	}
	c.ready.Store(true)
	c.log.Info("console cluster caches synced")
	<-ctx.Done()
	c.factory.Shutdown()
}

// ServerVersion returns the apiserver's version once known.
func (c *Cluster) ServerVersion() string {
	c.versionMu.Lock()
	defer c.versionMu.Unlock()
	return c.serverVersion
}

func (c *Cluster) check() error {
	if !c.ready.Load() {
		return ErrNotReady
	}
	return nil
}

// clientsFor returns typed and dynamic clients that impersonate id. They
// share the admin connection pool; only the impersonation headers differ.
func (c *Cluster) clientsFor(id Identity) (kubernetes.Interface, dynamic.Interface, error) {
	rt := transport.NewImpersonatingRoundTripper(transport.ImpersonationConfig{UserName: id.User, Groups: id.Groups}, c.baseRT)
	hc := &http.Client{Transport: rt}
	typed, err := kubernetes.NewForConfigAndClient(c.base, hc)
	if err != nil {
		return nil, nil, fmt.Errorf("creating impersonating client: %w", err)
	}
	dyn, err := dynamic.NewForConfigAndClient(c.base, hc)
	if err != nil {
		return nil, nil, fmt.Errorf("creating impersonating client: %w", err)
	}
	return typed, dyn, nil
}

// watchChanges forwards informer events as views.
func (c *Cluster) watchChanges() {
	f := c.factory
	add := func(kind string, inf cache.SharedIndexInformer, view func(any) (ns, name string, v any)) {
		send := func(typ string, obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			c.invalidateFor(kind, obj)
			if c.onChange == nil || !c.ready.Load() {
				return
			}
			ns, name, v := view(obj)
			if typ == "DELETED" {
				v = nil
			}
			c.onChange(Change{Kind: kind, Namespace: ns, Type: typ, Name: name, Object: v})
		}
		_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { send("ADDED", obj) },
			UpdateFunc: func(_, obj any) { send("MODIFIED", obj) },
			DeleteFunc: func(obj any) { send("DELETED", obj) },
		})
		if err != nil {
			c.log.Warn("watching changes", "kind", kind, "err", err)
		}
	}
	add(KindPods, f.Core().V1().Pods().Informer(), func(o any) (string, string, any) {
		p := asPod(o)
		return p.Namespace, p.Name, c.podView(p)
	})
	add(KindDeployments, f.Apps().V1().Deployments().Informer(), func(o any) (string, string, any) {
		w := c.workloadFromObject(o)
		return w.Namespace, w.Name, w
	})
	add(KindStatefulSets, f.Apps().V1().StatefulSets().Informer(), func(o any) (string, string, any) {
		w := c.workloadFromObject(o)
		return w.Namespace, w.Name, w
	})
	add(KindDaemonSets, f.Apps().V1().DaemonSets().Informer(), func(o any) (string, string, any) {
		w := c.workloadFromObject(o)
		return w.Namespace, w.Name, w
	})
	add(KindJobs, f.Batch().V1().Jobs().Informer(), func(o any) (string, string, any) {
		w := c.workloadFromObject(o)
		return w.Namespace, w.Name, w
	})
	add(KindCronJobs, f.Batch().V1().CronJobs().Informer(), func(o any) (string, string, any) {
		w := c.workloadFromObject(o)
		return w.Namespace, w.Name, w
	})
	add(KindNodes, f.Core().V1().Nodes().Informer(), func(o any) (string, string, any) {
		n := asNode(o)
		return "", n.Name, c.nodeView(n)
	})
	add(KindEvents, f.Core().V1().Events().Informer(), func(o any) (string, string, any) {
		e := asEvent(o)
		return e.Namespace, e.Name, eventView(e)
	})
	for kind, inf := range map[string]cache.SharedIndexInformer{
		KindServices:   f.Core().V1().Services().Informer(),
		KindConfigMaps: f.Core().V1().ConfigMaps().Informer(),
		KindSecrets:    f.Core().V1().Secrets().Informer(),
		KindPVCs:       f.Core().V1().PersistentVolumeClaims().Informer(),
		KindIngresses:  f.Networking().V1().Ingresses().Informer(),
	} {
		add(kind, inf, func(o any) (string, string, any) {
			ns, name, v := configView(o)
			return ns, name, v
		})
	}
	// ReplicaSets feed rollback and pods' owners; StorageClasses and
	// Namespaces are read on demand. Their changes only invalidate.
	for kind, inf := range map[string]cache.SharedIndexInformer{
		"replicasets":    f.Apps().V1().ReplicaSets().Informer(),
		"storageclasses": f.Storage().V1().StorageClasses().Informer(),
		"namespaces":     f.Core().V1().Namespaces().Informer(),
	} {
		_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { c.invalidateFor(kind, obj) },
			UpdateFunc: func(_, obj any) { c.invalidateFor(kind, obj) },
			DeleteFunc: func(obj any) { c.invalidateFor(kind, unwrapDeleted(obj)) },
		})
		if err != nil {
			c.log.Warn("watching changes", "kind", kind, "err", err)
		}
	}
}

// invalidateFor drops the encoded answers a change of obj (of kind) affects.
func (c *Cluster) invalidateFor(kind string, obj any) {
	ns := ""
	if acc, err := meta.Accessor(obj); err == nil {
		ns = acc.GetNamespace()
	}
	switch kind {
	case KindPods:
		// Node pages count pods per node.
		c.encoded.invalidate(KindPods+"/"+ns, KindNodes+"/")
	case "replicasets", KindJobs:
		// A pod's owner is resolved through these.
		c.encoded.invalidate(KindPods+"/"+ns, workloadsKey(ns))
	case KindDeployments, KindStatefulSets, KindDaemonSets, KindCronJobs:
		c.encoded.invalidate(workloadsKey(ns))
	case KindNodes:
		c.encoded.invalidate(KindNodes + "/")
	case "storageclasses":
		c.encoded.invalidate("storageclasses/")
	case "namespaces":
		c.encoded.invalidate("namespaces/")
	default:
		c.encoded.invalidate(kind + "/" + ns)
	}
}

func workloadsKey(ns string) string { return "workloads/" + ns }
