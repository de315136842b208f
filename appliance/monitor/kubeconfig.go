package monitor

import (
	"fmt"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// writeKubeconfig writes rc as a kubeconfig file (mode 0600) for
// Prometheus's Kubernetes service discovery, which reads its credentials
// from a file.
func writeKubeconfig(path string, rc *rest.Config) error {
	cfg := clientcmdapi.NewConfig()
	cluster := clientcmdapi.NewCluster()
	cluster.Server = rc.Host + rc.APIPath
	cluster.CertificateAuthority = rc.CAFile
	cluster.CertificateAuthorityData = rc.CAData
	cluster.InsecureSkipTLSVerify = rc.Insecure
	cluster.TLSServerName = rc.ServerName
	auth := clientcmdapi.NewAuthInfo()
	auth.ClientCertificate, auth.ClientCertificateData = rc.CertFile, rc.CertData
	auth.ClientKey, auth.ClientKeyData = rc.KeyFile, rc.KeyData
	auth.Token, auth.TokenFile = rc.BearerToken, rc.BearerTokenFile
	auth.Username, auth.Password = rc.Username, rc.Password
	cfg.Clusters["outpost"] = cluster
	cfg.AuthInfos["outpost-monitor"] = auth
	ctx := clientcmdapi.NewContext()
	ctx.Cluster, ctx.AuthInfo = "outpost", "outpost-monitor"
	cfg.Contexts["outpost-monitor"] = ctx
	cfg.CurrentContext = "outpost-monitor"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("writing kubeconfig for pod discovery: %w", err)
	}
	return nil
}
