// Package shareddata finds the real corpora tests and benchmarks read from
// ../shared/data beside the repository (never copied into it), and skips
// with a clear message where they are absent.
package shareddata

import (
	"os"
	"path/filepath"
	"testing"
)

// SRDDir returns the SRD 5.2 Markdown folder (shared/data/srd-5.2/src),
// found by walking up from the working directory, so it works from any
// package of the repository and from a clone in CI. When no parent folder
// holds it, tb is skipped with a message saying where it is expected.
func SRDDir(tb testing.TB) string {
	tb.Helper()
	if dir, ok := FindSRD(); ok {
		return dir
	}
	tb.Skip("SRD 5.2 corpus not found: no shared/data/srd-5.2/src in any parent folder of the working directory (expected at ../shared/data beside the repository); skipping")
	return ""
}

// FindSRD is SRDDir without a test: the folder and whether it exists.
func FindSRD() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		p := filepath.Join(dir, "shared", "data", "srd-5.2", "src")
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return p, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}
