package addons

import (
	"strings"
	"testing"
)

var testValues = Values{ClusterDomain: "cluster.local", ClusterDNS: "10.43.0.10",
	CoreDNSImage: "outpost.local/system/coredns:1.0", MetricsServerImage: "outpost.local/system/metrics-server:1.0"}

func TestRenderAllAddons(t *testing.T) {
	v := testValues
	tests := []struct {
		name      string
		wantKinds []string
	}{
		{"monitoring-rbac", []string{"ClusterRole", "ClusterRoleBinding"}},
		{"coredns", []string{"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "Deployment", "Service"}},
		{"metrics-server", []string{"ServiceAccount", "ClusterRole", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "ClusterRoleBinding", "Service", "Deployment", "APIService"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := Render(tt.name, v)
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, o := range objs {
				kinds = append(kinds, o.GetKind())
				if o.GetName() == "" {
					t.Errorf("%s without a name", o.GetKind())
				}
			}
			if strings.Join(kinds, ",") != strings.Join(tt.wantKinds, ",") {
				t.Fatalf("kinds %v, want %v", kinds, tt.wantKinds)
			}
		})
	}
	objs, _ := Render("coredns", v)
	for _, o := range objs {
		if o.GetKind() == "Service" {
			if ip, _, _ := unstructuredString(o.Object, "spec", "clusterIP"); ip != "10.43.0.10" {
				t.Fatalf("kube-dns clusterIP %q", ip)
			}
		}
	}
}

func TestRenderRefusesMissingValues(t *testing.T) {
	// A missing image must be an error, never a Deployment with "image:" empty.
	if _, err := Render("coredns", Values{ClusterDomain: "cluster.local", ClusterDNS: "10.43.0.10"}); err == nil {
		t.Fatal("rendered with empty image values")
	}
}

func unstructuredString(obj map[string]any, path ...string) (string, bool, error) {
	cur := any(obj)
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return "", false, nil
		}
		cur = m[p]
	}
	s, ok := cur.(string)
	return s, ok, nil
}
