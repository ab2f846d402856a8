package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hearth-ai/hearth/middleware/protocol"
)

// Admin endpoints. They need a credential of role admin; an admin sees and
// acts on its own tenant's connections only, unless its tenant is
// AllTenants.
const (
	// AdminConnectionsPath (GET) lists the connections: their count and
	// the players connected, with their tenant and connection count.
	AdminConnectionsPath = "/v1/admin/connections"
	// AdminKickPath (POST ?player=ID[&tenant=T]) closes every connection
	// of a player with protocol.CloseKicked.
	AdminKickPath = "/v1/admin/kick"
)

// ConnectedPlayer is one player in the admin connection list.
type ConnectedPlayer struct {
	// PlayerID is the player_id of the player's hello.
	PlayerID string `json:"player_id"`
	// Tenant is the tenant of the credentials it connected with.
	Tenant string `json:"tenant"`
	// Connections is how many connections the player has open.
	Connections int `json:"connections"`
}

// ConnectionList is the answer of AdminConnectionsPath.
type ConnectionList struct {
	// Count is the number of open connections visible to the caller,
	// with or without hello.
	Count int `json:"count"`
	// Players are the players that said hello, sorted by tenant and id.
	Players []ConnectedPlayer `json:"players"`
}

// Connections lists the open connections of tenant (AllTenants: of every
// tenant). A server without authentication has one tenant, "".
func (s *Server) Connections(tenant string) ConnectionList {
	s.mu.Lock()
	defer s.mu.Unlock()
	var l ConnectionList
	for c := range s.conns {
		if tenant == AllTenants || c.principal.Tenant == tenant {
			l.Count++
		}
	}
	byKey := map[string]*ConnectedPlayer{}
	for _, pc := range s.players {
		for c := range pc {
			if tenant != AllTenants && c.principal.Tenant != tenant {
				continue
			}
			k := playerKey(c.principal.Tenant, c.playerID)
			p := byKey[k]
			if p == nil {
				p = &ConnectedPlayer{PlayerID: c.playerID, Tenant: c.principal.Tenant}
				byKey[k] = p
			}
			p.Connections++
		}
	}
	l.Players = make([]ConnectedPlayer, 0, len(byKey))
	for _, p := range byKey {
		l.Players = append(l.Players, *p)
	}
	slices.SortFunc(l.Players, func(a, b ConnectedPlayer) int {
		if c := strings.Compare(a.Tenant, b.Tenant); c != 0 {
			return c
		}
		return strings.Compare(a.PlayerID, b.PlayerID)
	})
	return l
}

// Kick closes every connection of player in tenant (AllTenants: in every
// tenant) with protocol.CloseKicked and returns how many it closed.
func (s *Server) Kick(tenant, player string) int {
	s.mu.Lock()
	var victims []*conn
	if tenant != AllTenants {
		for c := range s.players[playerKey(tenant, player)] {
			victims = append(victims, c)
		}
	} else {
		for c := range s.conns {
			if c.playerID == player {
				victims = append(victims, c)
			}
		}
	}
	s.mu.Unlock()
	for _, c := range victims {
		c.closeWith(protocol.CloseKicked, "kicked by an administrator")
	}
	return len(victims)
}

// adminResult is what an admin action answers and records.
type adminResult struct {
	status int
	body   any    // JSON body
	target string // for the audit log
	result string // for the audit log
}

// adminHandler wraps an admin action with its checks: the method, that
// authentication is on, the credential, the admin role, and the audit
// record of every authenticated attempt.
func (s *Server) adminHandler(method, action string, do func(r *http.Request, p Principal) adminResult) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.authEnabled() {
			writeJSONError(w, http.StatusForbidden, protocol.CodeForbidden,
				"admin endpoints are off: this server runs without authentication (start it with -auth-keys or -jwt-secret-env)")
			return
		}
		p, f := s.authenticate(r)
		if f != nil {
			s.refuse(w, r, f)
			return
		}
		target := r.URL.Query().Get("player")
		if p.Role != RoleAdmin {
			s.record(r, p, action, target, "denied: role "+string(p.Role))
			s.refuse(w, r, &authFailure{http.StatusForbidden, protocol.CodeForbidden,
				fmt.Sprintf("%s needs role %q; this credential has role %q", r.URL.Path, RoleAdmin, p.Role)})
			return
		}
		if r.Method != method {
			s.record(r, p, action, target, "denied: method "+r.Method)
			w.Header().Set("Allow", method)
			writeJSONError(w, http.StatusMethodNotAllowed, protocol.CodeBadRequest, r.URL.Path+" takes "+method)
			return
		}
		res := do(r.WithContext(context.WithValue(r.Context(), principalKey{}, p)), p)
		if err := s.record(r, p, action, res.target, res.result); err != nil {
			// The action happened; say that it is not on the record.
			writeJSONError(w, http.StatusInternalServerError, protocol.CodeInternal,
				"the action was carried out ("+res.result+") but the audit log failed: "+err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(res.status)
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.Encode(res.body)
	}
}

// record writes one audit entry; a failure is logged and returned.
func (s *Server) record(r *http.Request, p Principal, action, target, result string) error {
	err := s.opts.Audit.Record(AuditEntry{Time: time.Now().UTC(), Actor: p.ID, Tenant: p.Tenant, Action: action,
		Target: target, Result: result, Remote: r.RemoteAddr})
	if err != nil {
		s.opts.Logger.Error("audit log write failed", "action", action, "actor", p.ID, "target", target, "result", result, "err", err)
	}
	return err
}

func (s *Server) adminConnections(_ *http.Request, p Principal) adminResult {
	l := s.Connections(p.Tenant)
	return adminResult{status: http.StatusOK, body: l, result: fmt.Sprintf("ok: %d connections", l.Count)}
}

// adminTenant is the tenant an admin request names with ?tenant= (its
// own when none), or the 403 for an admin of another tenant; verb says
// what it may not do ("act on", "read").
func adminTenant(r *http.Request, p Principal, verb string) (string, *adminResult) {
	t := r.URL.Query().Get("tenant")
	if t == "" {
		return p.Tenant, nil
	}
	if p.Tenant != AllTenants && t != p.Tenant {
		return "", &adminResult{status: http.StatusForbidden,
			body:   protocol.ErrorPayload{Code: protocol.CodeForbidden, Message: "an admin of tenant " + p.Tenant + " cannot " + verb + " tenant " + t},
			result: "denied: tenant " + t}
	}
	return t, nil
}

func (s *Server) adminKick(r *http.Request, p Principal) adminResult {
	player := r.URL.Query().Get("player")
	if player == "" || len(player) > protocol.MaxIDBytes {
		return adminResult{status: http.StatusBadRequest,
			body:   protocol.ErrorPayload{Code: protocol.CodeBadRequest, Message: "player: required, 1..64 bytes"},
			result: "failed: no valid player"}
	}
	tenant, denied := adminTenant(r, p, "act on")
	if denied != nil {
		denied.target = player
		return *denied
	}
	n := s.Kick(tenant, player)
	return adminResult{status: http.StatusOK, target: player,
		body:   map[string]any{"player_id": player, "tenant": tenant, "kicked": n},
		result: fmt.Sprintf("ok: kicked %d connections", n)}
}
