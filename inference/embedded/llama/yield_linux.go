//go:build linux

package llama

import "syscall"

// yieldCPU gives the rest of this OS thread's time slice to any other
// runnable thread (sched_yield(2)), so that a spinning team member costs
// little when the machine is busy; when it is idle the call returns at
// once. runtime.Gosched would only yield to goroutines of this process.
func yieldCPU() {
	syscall.Syscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
}
