package nodemetrics

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// collectCertificates exports the NotAfter of every certificate in the
// configured PEM files and directories (*.crt, *.pem, *.cert).
func (c *Collector) collectCertificates(ch chan<- prometheus.Metric) error {
	var errs []error
	for _, p := range c.opts.CertificateFiles {
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue // the PKI may not exist yet on first boot
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		files := []string{p}
		if fi.IsDir() {
			files = nil
			_ = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() && hasCertExt(path) {
					files = append(files, path)
				}
				return nil
			})
		}
		for _, f := range files {
			if err := c.exportCertFile(ch, f); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func hasCertExt(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".crt", ".pem", ".cert":
		return true
	}
	return false
}

func (c *Collector) exportCertFile(ch chan<- prometheus.Metric, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading certificate file: %w", err)
	}
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil
		}
		if block.Type != "CERTIFICATE" {
			continue // keys and CSRs may share a .pem file
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return fmt.Errorf("parsing certificate in %s: %w", path, err)
		}
		gauge(ch, c.d.certExpiry, float64(cert.NotAfter.Unix()), path, cert.Subject.String(), cert.Issuer.String())
	}
}
