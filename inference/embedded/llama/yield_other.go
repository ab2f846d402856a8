//go:build !linux

package llama

import "runtime"

// yieldCPU yields to other goroutines (sched_yield is Linux-only).
func yieldCPU() { runtime.Gosched() }
