package kube

import "os"

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func mkdir(d string) error { return os.MkdirAll(d, 0o700) }
