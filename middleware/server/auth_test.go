package server_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"

	"github.com/hearth-ai/hearth/middleware/client"
	"github.com/hearth-ai/hearth/middleware/protocol"
	"github.com/hearth-ai/hearth/middleware/server"
)

// mint makes an API key and its record, failing the test on error.
func mint(t *testing.T, id string, role server.Role, tenant string) (string, server.APIKeyRecord) {
	t.Helper()
	key, rec, err := server.NewAPIKey(id, role, tenant)
	if err != nil {
		t.Fatal(err)
	}
	return key, rec
}

func bearer(cred string) http.Header { return http.Header{"Authorization": {"Bearer " + cred}} }

// refusedUpgrade dials url with header and checks that the server refused
// the upgrade with status and a JSON body of code whose message mentions
// mention.
func refusedUpgrade(t *testing.T, url string, header http.Header, status int, code, mention string) {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{protocol.SubprotocolMsgpack}}
	ws, resp, err := d.Dial(url, header)
	if err == nil {
		ws.Close()
		t.Fatalf("upgrade succeeded, want HTTP %d", status)
	}
	if resp == nil {
		t.Fatalf("no HTTP answer: %v", err)
	}
	checkJSONError(t, resp, status, code, mention)
}

func checkJSONError(t *testing.T, resp *http.Response, status int, code, mention string) {
	t.Helper()
	defer resp.Body.Close()
	var body protocol.ErrorPayload
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("HTTP %d: body is not JSON: %v", resp.StatusCode, err)
	}
	if resp.StatusCode != status || body.Code != code || !strings.Contains(body.Message, mention) {
		t.Fatalf("got HTTP %d %+v, want %d with code %s mentioning %q", resp.StatusCode, body, status, code, mention)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
}

func httpDo(t *testing.T, method, url, cred string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cred != "" {
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// auditLines reads the audit log's JSON lines.
func auditLines(t *testing.T, path string) []server.AuditEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []server.AuditEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e server.AuditEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		out = append(out, e)
	}
	return out
}

func TestAPIKeys(t *testing.T) {
	clientKey, clientRec := mint(t, "game-eu", server.RoleClient, "acme")
	adminKey, adminRec := mint(t, "ops", server.RoleAdmin, "acme")
	otherAdmin, otherRec := mint(t, "rival-ops", server.RoleAdmin, "rival")
	// The keys file holds hashes only; load it the way hearth serve does.
	dir := t.TempDir()
	keysPath := filepath.Join(dir, "keys.json")
	b, _ := json.Marshal(map[string]any{"keys": []server.APIKeyRecord{clientRec, adminRec, otherRec}})
	if strings.Contains(string(b), clientKey) {
		t.Fatal("the keys file holds a plaintext key")
	}
	if err := os.WriteFile(keysPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := server.LoadKeyRing(keysPath)
	if err != nil {
		t.Fatal(err)
	}
	auditPath := filepath.Join(dir, "audit.jsonl")
	audit, err := server.OpenFileAudit(auditPath)
	if err != nil {
		t.Fatal(err)
	}
	defer audit.Close()
	ts := launch(t, t.TempDir(), server.Options{Keys: keys, Audit: audit}, true)

	t.Run("no key is 401 before the upgrade", func(t *testing.T) {
		refusedUpgrade(t, ts.wsURL, nil, http.StatusUnauthorized, protocol.CodeUnauthorized, "no credential")
	})
	t.Run("bad key is 401", func(t *testing.T) {
		refusedUpgrade(t, ts.wsURL, bearer(clientKey+"x"), http.StatusUnauthorized, protocol.CodeUnauthorized, "unknown API key")
		refusedUpgrade(t, ts.wsURL, http.Header{"Authorization": {"Basic " + clientKey}}, http.StatusUnauthorized, protocol.CodeUnauthorized, "no credential")
	})

	c, err := client.Dial(context.Background(), ts.wsURL, client.Options{PlayerID: "p1", Header: bearer(clientKey)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Talk(context.Background(), c.Welcome().NPCs[0].ID, "Hello!", 0, nil); err != nil {
		t.Fatal(err)
	}

	t.Run("key in Sec-WebSocket-Protocol", func(t *testing.T) {
		d := websocket.Dialer{Subprotocols: []string{protocol.SubprotocolJSON, server.AuthSubprotocolPrefix + clientKey}}
		ws, resp, err := d.Dial(ts.wsURL, nil)
		if err != nil {
			t.Fatalf("%v (%v)", err, resp)
		}
		defer ws.Close()
		if ws.Subprotocol() != protocol.SubprotocolJSON {
			t.Fatalf("negotiated %q; the credential must never be echoed", ws.Subprotocol())
		}
		r := &raw{t: t, ws: ws, codec: protocol.JSONCodec{}}
		r.send(1, protocol.Hello{PlayerID: "browser"})
		if _, m := r.next(); m.Type() != protocol.TypeWelcome {
			t.Fatalf("got %+v", m)
		}
	})

	t.Run("client key on admin endpoint is 403", func(t *testing.T) {
		resp := httpDo(t, http.MethodGet, ts.httpURL+server.AdminConnectionsPath, clientKey)
		checkJSONError(t, resp, http.StatusForbidden, protocol.CodeForbidden, `role "admin"`)
		resp = httpDo(t, http.MethodPost, ts.httpURL+server.AdminKickPath+"?player=p1", clientKey)
		checkJSONError(t, resp, http.StatusForbidden, protocol.CodeForbidden, `role "admin"`)
		resp = httpDo(t, http.MethodGet, ts.httpURL+server.AdminConnectionsPath, "")
		checkJSONError(t, resp, http.StatusUnauthorized, protocol.CodeUnauthorized, "no credential")
	})

	t.Run("admin lists connections of its tenant", func(t *testing.T) {
		resp := httpDo(t, http.MethodGet, ts.httpURL+server.AdminConnectionsPath, adminKey)
		defer resp.Body.Close()
		var l server.ConnectionList
		if err := json.NewDecoder(resp.Body).Decode(&l); err != nil || resp.StatusCode != 200 {
			t.Fatalf("HTTP %d, %v", resp.StatusCode, err)
		}
		found := false
		for _, p := range l.Players {
			found = found || (p.PlayerID == "p1" && p.Tenant == "acme" && p.Connections == 1)
		}
		if !found || l.Count < 1 {
			t.Fatalf("p1 of acme not listed: %+v", l)
		}
		// Another tenant's admin sees none of acme's players.
		resp2 := httpDo(t, http.MethodGet, ts.httpURL+server.AdminConnectionsPath, otherAdmin)
		defer resp2.Body.Close()
		var l2 server.ConnectionList
		if err := json.NewDecoder(resp2.Body).Decode(&l2); err != nil || resp2.StatusCode != 200 {
			t.Fatalf("HTTP %d, %v", resp2.StatusCode, err)
		}
		if l2.Count != 0 || len(l2.Players) != 0 {
			t.Fatalf("tenant rival sees %+v", l2)
		}
	})

	t.Run("admin kicks a player", func(t *testing.T) {
		resp := httpDo(t, http.MethodGet, ts.httpURL+server.AdminKickPath+"?player=p1", adminKey)
		checkJSONError(t, resp, http.StatusMethodNotAllowed, protocol.CodeBadRequest, "POST")
		resp = httpDo(t, http.MethodPost, ts.httpURL+server.AdminKickPath+"?player=p1", adminKey)
		var out struct{ Kicked int }
		json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode != 200 || out.Kicked != 1 {
			t.Fatalf("HTTP %d, kicked %d", resp.StatusCode, out.Kicked)
		}
		select {
		case <-c.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("the kicked connection stayed open")
		}
		var ce *websocket.CloseError
		if err := c.Err(); !errors.As(err, &ce) || ce.Code != protocol.CloseKicked {
			t.Fatalf("kicked client ended with %v, want close %d", err, protocol.CloseKicked)
		}
	})

	t.Run("audit log", func(t *testing.T) {
		lines := auditLines(t, auditPath)
		want := []struct{ actor, action, target, result string }{
			{"key:game-eu", "connections.list", "", "denied: role client"},
			{"key:game-eu", "kick", "p1", "denied: role client"},
			{"key:ops", "connections.list", "", "ok: "},
			{"key:rival-ops", "connections.list", "", "ok: 0 connections"},
			{"key:ops", "kick", "p1", "denied: method GET"},
			{"key:ops", "kick", "p1", "ok: kicked 1 connections"},
		}
		if len(lines) != len(want) {
			t.Fatalf("%d audit lines, want %d: %+v", len(lines), len(want), lines)
		}
		for i, w := range want {
			l := lines[i]
			if l.Actor != w.actor || l.Action != w.action || l.Target != w.target || !strings.HasPrefix(l.Result, w.result) ||
				l.Time.IsZero() || l.Remote == "" || l.Tenant == "" {
				t.Errorf("audit line %d: %+v, want %+v", i, l, w)
			}
		}
	})
}

func TestKeyRingRejectsBadFiles(t *testing.T) {
	_, rec := mint(t, "a", server.RoleClient, "t")
	dir := t.TempDir()
	for name, body := range map[string]string{
		"duplicate id":   "keys:\n  - {id: a, role: client, tenant: t, sha256: " + rec.SHA256 + "}\n  - {id: a, role: admin, tenant: t, sha256: " + rec.SHA256 + "}\n",
		"plaintext key":  "keys:\n  - {id: a, role: client, tenant: t, sha256: hth_abc}\n",
		"unknown role":   "keys:\n  - {id: a, role: root, tenant: t, sha256: " + rec.SHA256 + "}\n",
		"no tenant":      "keys:\n  - {id: a, role: client, sha256: " + rec.SHA256 + "}\n",
		"unknown field":  "keys:\n  - {id: a, role: client, tenant: t, key: hth_abc, sha256: " + rec.SHA256 + "}\n",
		"no keys":        "keys: []\n",
		"client all ten": "keys:\n  - {id: a, role: client, tenant: '*', sha256: " + rec.SHA256 + "}\n",
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".yaml")
		os.WriteFile(p, []byte(body), 0o600)
		if _, err := server.LoadKeyRing(p); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
	p := filepath.Join(dir, "good.yaml")
	os.WriteFile(p, []byte("keys:\n  - {id: a, role: client, tenant: t, sha256: "+rec.SHA256+"}\n"), 0o600)
	if kr, err := server.LoadKeyRing(p); err != nil || kr.Len() != 1 {
		t.Fatalf("good file: %v", err)
	}
	if _, _, err := server.NewAPIKey("x", "root", "t"); err == nil {
		t.Fatal("minted a key with an unknown role")
	}
}

var jwtSecret = []byte("0123456789abcdef0123456789abcdef-test-only")

func signJWT(t *testing.T, m jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func playerClaims(sub, role string, exp time.Time) jwt.MapClaims {
	return jwt.MapClaims{"sub": sub, "role": role, "tenant": "acme", "exp": exp.Unix()}
}

func TestJWT(t *testing.T) {
	v, err := server.NewJWTVerifier(jwtSecret)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := server.NewJWTVerifier([]byte("short")); err == nil {
		t.Fatal("accepted a short secret")
	}
	ts := launch(t, t.TempDir(), server.Options{JWT: v}, true)
	hour := time.Now().Add(time.Hour)
	alice := signJWT(t, jwt.SigningMethodHS256, jwtSecret, playerClaims("alice", "client", hour))

	t.Run("valid token speaks for its player", func(t *testing.T) {
		c, err := client.Dial(context.Background(), ts.wsURL, client.Options{PlayerID: "alice", Header: bearer(alice)})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Talk(context.Background(), c.Welcome().NPCs[0].ID, "Hello!", 0, nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("token of alice used as bob is refused", func(t *testing.T) {
		_, err := client.Dial(context.Background(), ts.wsURL, client.Options{PlayerID: "bob", Header: bearer(alice)})
		wantCode(t, err, protocol.CodeForbidden, `"alice"`)
		// The raw protocol: the refused hello leaves no session.
		d := websocket.Dialer{Subprotocols: []string{protocol.SubprotocolMsgpack}}
		ws, _, err := d.Dial(ts.wsURL, bearer(alice))
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		r := &raw{t: t, ws: ws, codec: protocol.MsgpackCodec{}}
		r.send(1, protocol.Hello{PlayerID: "bob"})
		r.wantError(1, protocol.CodeForbidden)
		r.send(2, protocol.Talk{NPCID: "anyone", Text: "I am bob"})
		r.wantError(2, protocol.CodeNotHello)
	})

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, token, mention string
	}{
		{"expired", signJWT(t, jwt.SigningMethodHS256, jwtSecret, playerClaims("alice", "client", time.Now().Add(-time.Hour))), "expired"},
		{"alg none", signJWT(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, playerClaims("alice", "client", hour)), "signing method"},
		{"RS256", signJWT(t, jwt.SigningMethodRS256, rsaKey, playerClaims("alice", "client", hour)), "signing method"},
		{"HS384", signJWT(t, jwt.SigningMethodHS384, jwtSecret, playerClaims("alice", "client", hour)), "signing method"},
		{"wrong secret", signJWT(t, jwt.SigningMethodHS256, []byte("another-secret-of-more-than-32-bytes!!"), playerClaims("alice", "client", hour)), "signature"},
		{"no exp", signJWT(t, jwt.SigningMethodHS256, jwtSecret, jwt.MapClaims{"sub": "alice", "role": "client", "tenant": "acme"}), "exp"},
		{"no tenant", signJWT(t, jwt.SigningMethodHS256, jwtSecret, jwt.MapClaims{"sub": "alice", "role": "client", "exp": hour.Unix()}), "tenant"},
		{"no sub", signJWT(t, jwt.SigningMethodHS256, jwtSecret, jwt.MapClaims{"role": "client", "tenant": "acme", "exp": hour.Unix()}), "sub"},
		{"unknown role", signJWT(t, jwt.SigningMethodHS256, jwtSecret, playerClaims("alice", "root", hour)), "role"},
		{"not a JWT", "hth_notakey", "takes no API keys"},
	} {
		t.Run(c.name+" is 401", func(t *testing.T) {
			refusedUpgrade(t, ts.wsURL, bearer(c.token), http.StatusUnauthorized, protocol.CodeUnauthorized, c.mention)
		})
	}

	t.Run("admin JWT on admin endpoint, client JWT refused", func(t *testing.T) {
		admin := signJWT(t, jwt.SigningMethodHS256, jwtSecret, playerClaims("ops-1", "admin", hour))
		resp := httpDo(t, http.MethodGet, ts.httpURL+server.AdminConnectionsPath, admin)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("admin JWT: HTTP %d", resp.StatusCode)
		}
		resp = httpDo(t, http.MethodGet, ts.httpURL+server.AdminConnectionsPath, alice)
		checkJSONError(t, resp, http.StatusForbidden, protocol.CodeForbidden, "admin")
	})
}

func TestOpenServerHasNoAdminEndpoints(t *testing.T) {
	_, httpURL := startServer(t, server.Options{})
	resp := httpDo(t, http.MethodGet, httpURL+server.AdminConnectionsPath, "")
	checkJSONError(t, resp, http.StatusForbidden, protocol.CodeForbidden, "without authentication")
}

func TestLoadSecurity(t *testing.T) {
	env := map[string]string{"GOOD": string(jwtSecret), "SHORT": "tooshort"}
	getenv := func(k string) string { return env[k] }
	for _, name := range []string{"UNSET", "SHORT"} {
		if _, err := server.LoadSecurity(server.SecurityConfig{JWTSecretEnv: name}, getenv); err == nil {
			t.Errorf("JWT secret from $%s: loaded", name)
		}
	}
	if _, err := server.LoadSecurity(server.SecurityConfig{KeysFile: filepath.Join(t.TempDir(), "missing.yaml")}, getenv); err == nil {
		t.Error("missing keys file: loaded")
	}
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	sec, err := server.LoadSecurity(server.SecurityConfig{JWTSecretEnv: "GOOD", AuditFile: audit,
		Limits: server.DefaultLimits()}, getenv)
	if err != nil {
		t.Fatal(err)
	}
	defer sec.Close()
	var o server.Options
	sec.Apply(&o)
	if o.JWT == nil || o.Keys != nil || o.Audit == nil || o.Limits != server.DefaultLimits() {
		t.Fatalf("applied %+v", o)
	}
	if err := sec.Close(); err != nil {
		t.Fatal(err)
	}
	if err := o.Audit.Record(server.AuditEntry{Action: "x"}); err == nil {
		t.Fatal("recorded into a closed audit log")
	}
}

func TestConnectionEndsWithItsToken(t *testing.T) {
	v, err := server.NewJWTVerifier(jwtSecret)
	if err != nil {
		t.Fatal(err)
	}
	ts := launch(t, t.TempDir(), server.Options{JWT: v}, true)
	// Expired by the issuer's clock but inside the leeway: accepted, and
	// closed when the leeway runs out, a few seconds from now.
	exp := time.Now().Add(-server.JWTLeeway + 5*time.Second)
	tok := signJWT(t, jwt.SigningMethodHS256, jwtSecret, playerClaims("carol", "client", exp))
	c, err := client.Dial(context.Background(), ts.wsURL, client.Options{PlayerID: "carol", Header: bearer(tok)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case <-c.Done():
	case <-time.After(time.Minute):
		t.Fatal("the connection outlived its token")
	}
	var ce *websocket.CloseError
	if err := c.Err(); !errors.As(err, &ce) || ce.Code != protocol.CloseCredentialExpired {
		t.Fatalf("ended with %v, want close %d", err, protocol.CloseCredentialExpired)
	}
}
