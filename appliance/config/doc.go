// Package config holds the user-settable configuration of an Outpost server:
// one flat set of keys that are both command-line flags and keys of the YAML
// file (default /etc/outpost/config.yaml), their defaults and validation.
// Components never read flags or files; they receive typed values from here.
package config
