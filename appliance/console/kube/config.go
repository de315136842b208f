package kube

import (
	"context"
	"sort"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/outpost-platform/outpost/appliance/console/problem"
)

// ConfigKinds are the namespaced non-workload kinds the console lists.
var ConfigKinds = []string{KindServices, KindIngresses, KindConfigMaps, KindSecrets, KindPVCs}

// IsConfigKind reports whether kind is one of ConfigKinds.
func IsConfigKind(kind string) bool {
	for _, k := range ConfigKinds {
		if k == kind {
			return true
		}
	}
	return false
}

// Objects lists the objects of a config kind in a namespace, sorted by name.
func (c *Cluster) Objects(ns, kind string) ([]any, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	var objs []any
	switch kind {
	case KindServices:
		items, err := c.services.Services(ns).List(everything)
		if err != nil {
			return nil, err
		}
		sort.Slice(items, func(i, j int) bool { return items[i].Name < items[j].Name })
		for _, o := range items {
			objs = append(objs, serviceView(o))
		}
	case KindIngresses:
		items, err := c.ingresses.Ingresses(ns).List(everything)
		if err != nil {
			return nil, err
		}
		sort.Slice(items, func(i, j int) bool { return items[i].Name < items[j].Name })
		for _, o := range items {
			objs = append(objs, ingressView(o))
		}
	case KindConfigMaps:
		items, err := c.configMaps.ConfigMaps(ns).List(everything)
		if err != nil {
			return nil, err
		}
		sort.Slice(items, func(i, j int) bool { return items[i].Name < items[j].Name })
		for _, o := range items {
			objs = append(objs, configMapView(o))
		}
	case KindSecrets:
		items, err := c.secrets.Secrets(ns).List(everything)
		if err != nil {
			return nil, err
		}
		sort.Slice(items, func(i, j int) bool { return items[i].Name < items[j].Name })
		for _, o := range items {
			objs = append(objs, secretView(o))
		}
	case KindPVCs:
		items, err := c.pvcs.PersistentVolumeClaims(ns).List(everything)
		if err != nil {
			return nil, err
		}
		sort.Slice(items, func(i, j int) bool { return items[i].Name < items[j].Name })
		for _, o := range items {
			objs = append(objs, pvcView(o))
		}
	default:
		return nil, problem.NotFound("resource type")
	}
	if objs == nil {
		objs = []any{}
	}
	return objs, nil
}

// Object returns one object of a config kind.
func (c *Cluster) Object(ns, kind, name string) (any, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	nf := problem.NotFound(singular(kind))
	switch kind {
	case KindServices:
		o, err := c.services.Services(ns).Get(name)
		if err != nil {
			return nil, nf
		}
		return serviceView(o), nil
	case KindIngresses:
		o, err := c.ingresses.Ingresses(ns).Get(name)
		if err != nil {
			return nil, nf
		}
		return ingressView(o), nil
	case KindConfigMaps:
		o, err := c.configMaps.ConfigMaps(ns).Get(name)
		if err != nil {
			return nil, nf
		}
		return configMapView(o), nil
	case KindSecrets:
		o, err := c.secrets.Secrets(ns).Get(name)
		if err != nil {
			return nil, nf
		}
		return secretView(o), nil
	case KindPVCs:
		o, err := c.pvcs.PersistentVolumeClaims(ns).Get(name)
		if err != nil {
			return nil, nf
		}
		return pvcView(o), nil
	}
	return nil, problem.NotFound("resource type")
}

// DeleteObject deletes an object of a config kind as id.
func (c *Cluster) DeleteObject(ctx context.Context, id Identity, ns, kind, name string) error {
	if err := c.check(); err != nil {
		return err
	}
	cs, _, err := c.clientsFor(id)
	if err != nil {
		return err
	}
	opts := metav1.DeleteOptions{}
	switch kind {
	case KindServices:
		err = cs.CoreV1().Services(ns).Delete(ctx, name, opts)
	case KindIngresses:
		err = cs.NetworkingV1().Ingresses(ns).Delete(ctx, name, opts)
	case KindConfigMaps:
		err = cs.CoreV1().ConfigMaps(ns).Delete(ctx, name, opts)
	case KindSecrets:
		err = cs.CoreV1().Secrets(ns).Delete(ctx, name, opts)
	case KindPVCs:
		err = cs.CoreV1().PersistentVolumeClaims(ns).Delete(ctx, name, opts)
	default:
		return problem.NotFound("resource type")
	}
	return translate(err, singular(kind)+" "+name)
}

// SecretValue is one revealed key. Values that are not UTF-8 text are
// returned base64-encoded with Base64 set.
type SecretValue struct {
	Value  string `json:"value"`
	Base64 bool   `json:"base64,omitempty"`
}

// RevealSecret reads a secret's values from the apiserver as id, so that
// RBAC decides; the cache is not used for values.
func (c *Cluster) RevealSecret(ctx context.Context, id Identity, ns, name string) (map[string]SecretValue, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	cs, _, err := c.clientsFor(id)
	if err != nil {
		return nil, err
	}
	s, err := cs.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, translate(err, "secret "+name)
	}
	out := make(map[string]SecretValue, len(s.Data))
	for k, v := range s.Data {
		if utf8.Valid(v) {
			out[k] = SecretValue{Value: string(v)}
		} else {
			out[k] = SecretValue{Value: encodeBase64(v), Base64: true}
		}
	}
	return out, nil
}

// Nodes lists the nodes.
func (c *Cluster) Nodes() ([]Node, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	items, err := c.nodes.List(everything)
	if err != nil {
		return nil, err
	}
	out := make([]Node, 0, len(items))
	for _, n := range items {
		out = append(out, c.nodeView(n))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// StorageClasses lists the storage classes.
func (c *Cluster) StorageClasses() ([]StorageClass, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	items, err := c.storage.List(everything)
	if err != nil {
		return nil, err
	}
	out := make([]StorageClass, 0, len(items))
	for _, s := range items {
		out = append(out, storageClassView(s))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Namespace is the view of a namespace for platform admins.
type Namespace struct {
	Name      string `json:"name"`
	Status    string `json:"status"`
	Workspace string `json:"workspace,omitempty"`
	Managed   bool   `json:"managed"`
	Pods      int    `json:"pods"`
}

// Namespaces lists every namespace.
func (c *Cluster) Namespaces() ([]Namespace, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	items, err := c.namespaces.List(everything)
	if err != nil {
		return nil, err
	}
	out := make([]Namespace, 0, len(items))
	for _, n := range items {
		pods, _ := c.pods.Pods(n.Name).List(everything)
		out = append(out, Namespace{Name: n.Name, Status: string(n.Status.Phase), Workspace: n.Labels[LabelWorkspace],
			Managed: n.Labels[LabelManaged] == managedBy, Pods: len(pods)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Summary counts what runs in the cluster, or in the given namespaces when
// namespaces is not nil.
type Summary struct {
	Nodes      int            `json:"nodes"`
	NodesReady int            `json:"nodesReady"`
	Pods       map[string]int `json:"pods"`
	Workloads  map[string]int `json:"workloads"`
}

// Summarize counts nodes, pods by status and workloads by kind.
func (c *Cluster) Summarize(namespaces []string) (Summary, error) {
	if err := c.check(); err != nil {
		return Summary{}, err
	}
	s := Summary{Pods: map[string]int{}, Workloads: map[string]int{}}
	nodes, _ := c.nodes.List(everything)
	for _, n := range nodes {
		s.Nodes++
		if c.nodeView(n).Ready {
			s.NodesReady++
		}
	}
	nsList := namespaces
	if nsList == nil {
		nsList = []string{""}
	}
	for _, ns := range nsList {
		pods, _ := c.pods.Pods(ns).List(everything)
		for _, p := range pods {
			s.Pods[podStatus(p)]++
		}
		ws, _ := c.Workloads(ns, "")
		for _, w := range ws {
			s.Workloads[w.Kind]++
		}
	}
	return s, nil
}
