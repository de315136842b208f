// Package pki creates and keeps the appliance's certificate authorities, the
// serving and client certificates of every component, the service-account
// signing key, the secrets encryption key and the kubeconfigs built from
// them. Everything is generated once under <data-dir>/pki and reused on
// restart; a certificate is re-issued only when its names no longer match
// (node IP changed) or it is close to expiry.
package pki
