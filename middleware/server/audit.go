package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// AuditEntry is one admin action (or refused attempt) in the audit log.
type AuditEntry struct {
	// Time is when the action finished, in UTC.
	Time time.Time `json:"time"`
	// Actor is the principal's ID: "key:ID" or "jwt:SUB".
	Actor string `json:"actor"`
	// Tenant is the actor's tenant.
	Tenant string `json:"tenant"`
	// Action names the endpoint, e.g. "connections.list" or "kick".
	Action string `json:"action"`
	// Target is what the action was about (a player id), when anything.
	Target string `json:"target,omitempty"`
	// Result is "ok", "ok: …", "denied: …" or "failed: …".
	Result string `json:"result"`
	// Remote is the client's network address.
	Remote string `json:"remote,omitempty"`
}

// Audit records admin actions. Record must be safe for concurrent use and
// return only once the entry is durable (or fail).
type Audit interface {
	Record(AuditEntry) error
}

// FileAudit appends entries to a file as JSON lines, one write and one
// fsync per entry. Admin actions are rare, so durability costs nothing
// that matters.
type FileAudit struct {
	mu sync.Mutex
	f  *os.File
}

// OpenFileAudit opens path for appending (O_APPEND: existing lines are
// never rewritten), creating it with mode 0600 when it does not exist.
func OpenFileAudit(path string) (*FileAudit, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("server: audit log: %w", err)
	}
	return &FileAudit{f: f}, nil
}

// Record appends e as one JSON line and syncs the file. It fails when the
// file is closed or the write or sync fails.
func (a *FileAudit) Record(e AuditEntry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil {
		return errors.New("server: audit log: closed")
	}
	if _, err := a.f.Write(b); err != nil {
		return fmt.Errorf("server: audit log: %w", err)
	}
	if err := a.f.Sync(); err != nil {
		return fmt.Errorf("server: audit log: %w", err)
	}
	return nil
}

// Close closes the file; later Records fail.
func (a *FileAudit) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil {
		return nil
	}
	err := a.f.Close()
	a.f = nil
	return err
}

// logAudit is the audit of a server given none: entries go to its logger.
type logAudit struct{ log *slog.Logger }

func (l logAudit) Record(e AuditEntry) error {
	l.log.Info("audit", "actor", e.Actor, "tenant", e.Tenant, "action", e.Action, "target", e.Target, "result", e.Result, "remote", e.Remote)
	return nil
}
