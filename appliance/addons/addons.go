package addons

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"text/template"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

//go:embed manifests/*.yaml
var manifests embed.FS

// fieldManager owns the fields Outpost applies; users' own changes under
// other managers are left alone.
const fieldManager = "outpost"

// managedByLabel marks every object of the add-on manifests; its value is
// fieldManager.
const managedByLabel = "app.kubernetes.io/managed-by"

// Values are the settings the manifests are rendered with.
type Values struct {
	ClusterDomain      string
	ClusterDNS         string
	CoreDNSImage       string
	MetricsServerImage string
}

// Render returns the objects of one add-on rendered with v.
func Render(name string, v Values) ([]*unstructured.Unstructured, error) {
	if err := v.validate(); err != nil {
		return nil, fmt.Errorf("rendering add-on %q: %w", name, err)
	}
	raw, err := manifests.ReadFile("manifests/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("add-on %q: %w", name, err)
	}
	tmpl, err := template.New(name).Option("missingkey=error").Parse(string(raw))
	if err != nil {
		return nil, fmt.Errorf("parsing add-on %q: %w", name, err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, v); err != nil {
		return nil, fmt.Errorf("rendering add-on %q: %w", name, err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(&buf, 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("decoding add-on %q: %w", name, err)
		}
		if len(m) == 0 {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
	return objs, nil
}

// Apply renders and applies the named add-ons with server-side apply,
// retrying while the apiserver is still registering API groups (the
// APIService kind appears a moment after /readyz).
func Apply(ctx context.Context, log *slog.Logger, cfg *rest.Config, names []string, v Values) error {
	c, err := newClients(cfg)
	if err != nil {
		return fmt.Errorf("applying add-ons: %w", err)
	}
	for _, name := range names {
		objs, err := Render(name, v)
		if err != nil {
			return err
		}
		for _, obj := range objs {
			if err := c.applyWithRetry(ctx, obj); err != nil {
				return fmt.Errorf("applying add-on %q: %s %s: %w", name, obj.GetKind(), obj.GetName(), err)
			}
		}
		log.Info("applied add-on", "addon", name, "objects", len(objs))
	}
	return nil
}

// Remove deletes the objects of the named add-ons that Outpost applied
// earlier (label app.kubernetes.io/managed-by=outpost), so that disabling a
// component leaves nothing of it in the cluster. Objects of the same name
// that a user created are left alone.
func Remove(ctx context.Context, log *slog.Logger, cfg *rest.Config, names []string, v Values) error {
	c, err := newClients(cfg)
	if err != nil {
		return fmt.Errorf("removing add-ons: %w", err)
	}
	for _, name := range names {
		objs, err := Render(name, v)
		if err != nil {
			return err
		}
		removed := 0
		for _, obj := range objs {
			ri, err := c.resourceOf(obj)
			if meta.IsNoMatchError(err) {
				continue // the kind is not served, so no such object exists
			} else if err != nil {
				return fmt.Errorf("removing add-on %q: %w", name, err)
			}
			live, err := ri.Get(ctx, obj.GetName(), metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				continue
			} else if err != nil {
				return fmt.Errorf("removing add-on %q: %s %s: %w", name, obj.GetKind(), obj.GetName(), err)
			}
			if live.GetLabels()[managedByLabel] != fieldManager {
				continue
			}
			policy := metav1.DeletePropagationBackground
			if err := ri.Delete(ctx, obj.GetName(), metav1.DeleteOptions{PropagationPolicy: &policy}); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("removing add-on %q: %s %s: %w", name, obj.GetKind(), obj.GetName(), err)
			}
			removed++
		}
		if removed > 0 {
			log.Info("removed disabled add-on", "addon", name, "objects", removed)
		}
	}
	return nil
}

// clients reach any kind the add-ons use.
type clients struct {
	mapper *restmapper.DeferredDiscoveryRESTMapper
	dyn    dynamic.Interface
}

func newClients(cfg *rest.Config) (*clients, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &clients{mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)), dyn: dyn}, nil
}

// resourceOf returns the client of obj's kind, in its namespace if the kind
// is namespaced.
func (c *clients) resourceOf(obj *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := obj.GroupVersionKind()
	mapping, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, err
	}
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		return c.dyn.Resource(mapping.Resource).Namespace(obj.GetNamespace()), nil
	}
	return c.dyn.Resource(mapping.Resource), nil
}

func (c *clients) applyWithRetry(ctx context.Context, obj *unstructured.Unstructured) error {
	var lastErr error
	for attempt := 0; attempt < 60; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(500 * time.Millisecond):
			}
		}
		ri, err := c.resourceOf(obj)
		if err != nil {
			if meta.IsNoMatchError(err) {
				c.mapper.Reset()
			}
			lastErr = err
			continue
		}
		data, err := obj.MarshalJSON()
		if err != nil {
			return err
		}
		force := true
		_, err = ri.Patch(ctx, obj.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: fieldManager, Force: &force})
		if err == nil {
			return nil
		}
		lastErr = err
	}
	return lastErr
}

func (v Values) validate() error {
	for field, value := range map[string]string{"ClusterDomain": v.ClusterDomain, "ClusterDNS": v.ClusterDNS,
		"CoreDNSImage": v.CoreDNSImage, "MetricsServerImage": v.MetricsServerImage} {
		if value == "" {
			return fmt.Errorf("value %s is empty", field)
		}
	}
	return nil
}
