package settings

import (
	"errors"
	"fmt"
)

// RemoteWrite sends every ingested sample on to an external Prometheus (or
// anything speaking the remote-write protocol), so a site's central
// monitoring keeps a copy.
type RemoteWrite struct {
	// URL is the receiver's endpoint, e.g. https://prom.example/api/v1/write.
	URL string `json:"url" yaml:"url"`
	// Name labels the queue in metrics; default derived from the URL.
	Name string `json:"name,omitempty" yaml:"name,omitempty"`
	// Username and Password authenticate with HTTP basic auth.
	Username string `json:"username,omitempty" yaml:"username,omitempty"`
	Password Secret `json:"password,omitempty" yaml:"password,omitempty"`
	// BearerToken is sent as "Authorization: Bearer <token>".
	BearerToken Secret `json:"bearer-token,omitempty" yaml:"bearer-token,omitempty"`
	// CAFile, CertFile and KeyFile configure TLS to the receiver.
	CAFile   string `json:"ca-file,omitempty" yaml:"ca-file,omitempty"`
	CertFile string `json:"cert-file,omitempty" yaml:"cert-file,omitempty"`
	KeyFile  string `json:"key-file,omitempty" yaml:"key-file,omitempty"`
	// InsecureSkipVerify turns off TLS verification.
	InsecureSkipVerify bool `json:"insecure-skip-verify,omitempty" yaml:"insecure-skip-verify,omitempty"`
	// Headers are added to every request.
	Headers map[string]string `json:"headers,omitempty" yaml:"headers,omitempty"`
}

// ValidateRemoteWrite checks each target; errors name the list index.
func ValidateRemoteWrite(targets []RemoteWrite) error {
	var errs []error
	for i, t := range targets {
		if err := checkHTTPURL(t.URL); err != nil {
			errs = append(errs, fmt.Errorf("monitoring-remote-write[%d].url: %w", i, err))
		}
		if t.Password != "" && t.BearerToken != "" {
			errs = append(errs, fmt.Errorf("monitoring-remote-write[%d]: set either password or bearer-token, not both", i))
		}
		if (t.CertFile == "") != (t.KeyFile == "") {
			errs = append(errs, fmt.Errorf("monitoring-remote-write[%d]: cert-file and key-file go together", i))
		}
	}
	return errors.Join(errs...)
}
