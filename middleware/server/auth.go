package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"
	"go.yaml.in/yaml/v3"

	"github.com/hearth-ai/hearth/middleware/protocol"
)

// Role is what an authenticated caller may do. docs/security.md states the
// policy.
type Role string

const (
	// RoleClient may open /v1/ws and talk, bark and use quests.
	RoleClient Role = "client"
	// RoleAdmin may do everything a client may, and use /v1/admin/*.
	RoleAdmin Role = "admin"
)

// AllTenants, as an admin credential's tenant, lets the admin see and act on
// the connections of every tenant; any other tenant confines an admin to
// its own tenant's connections.
const AllTenants = "*"

func (r Role) valid() bool { return r == RoleClient || r == RoleAdmin }

// Principal is who a request was authenticated as.
type Principal struct {
	// ID names the credential in logs and the audit log: "key:ID" for an
	// API key, "jwt:SUB" for a JWT.
	ID string
	// Role is the credential's role.
	Role Role
	// Tenant is the credential's tenant (AllTenants only for operators'
	// admin keys).
	Tenant string
	// Player, when not empty, is the only player_id the connection may
	// send in hello (a JWT's sub). API keys leave it empty: they belong to
	// trusted game servers that connect on behalf of their players.
	Player string
	// Expires is a JWT's exp; zero for API keys. The token is accepted
	// until JWTLeeway after it, and a connection opened with it is closed
	// with protocol.CloseCredentialExpired then.
	Expires time.Time
}

type principalKey struct{}

// PrincipalFrom returns the principal that authenticated the request whose
// context is ctx (admin handlers get one), and false when the server runs
// without authentication.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// APIKeyRecord is one API key as stored in a keys file: never the key
// itself, only its SHA-256. A key is 256 random bits, so a fast hash is
// enough (nobody can enumerate 2^256 candidates); bcrypt or argon2 exist to
// slow down guessing low-entropy passwords, which API keys are not.
type APIKeyRecord struct {
	// ID names the key in logs and the audit log (not secret).
	ID string `yaml:"id" json:"id"`
	// Role is "client" or "admin".
	Role Role `yaml:"role" json:"role"`
	// Tenant is the studio or game the key belongs to.
	Tenant string `yaml:"tenant" json:"tenant"`
	// SHA256 is the hex SHA-256 of the plaintext key (64 hex digits).
	SHA256 string `yaml:"sha256" json:"sha256"`
}

// APIKeyPrefix starts every key NewAPIKey mints, so that leaked keys are
// easy to find with secret scanners.
const APIKeyPrefix = "hth_"

// NewAPIKey mints an API key: 32 bytes from crypto/rand, base64url encoded
// after APIKeyPrefix (47 characters, safe in an HTTP header and in
// Sec-WebSocket-Protocol). It returns the plaintext, to hand to the key's
// user once, and the record to store in the keys file. It fails when role
// is not RoleClient or RoleAdmin, when id or tenant is empty, or when the
// system's random source fails.
func NewAPIKey(id string, role Role, tenant string) (plaintext string, rec APIKeyRecord, err error) {
	rec = APIKeyRecord{ID: id, Role: role, Tenant: tenant}
	if err := rec.validateFields(); err != nil {
		return "", APIKeyRecord{}, err
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", APIKeyRecord{}, fmt.Errorf("server: mint API key: %w", err)
	}
	plaintext = APIKeyPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	sum := sha256.Sum256([]byte(plaintext))
	rec.SHA256 = hex.EncodeToString(sum[:])
	return plaintext, rec, nil
}

func (r APIKeyRecord) validateFields() error {
	switch {
	case r.ID == "":
		return errors.New("server: API key: id is required")
	case !r.Role.valid():
		return fmt.Errorf("server: API key %q: role %q: want %q or %q", r.ID, r.Role, RoleClient, RoleAdmin)
	case r.Tenant == "":
		return fmt.Errorf("server: API key %q: tenant is required", r.ID)
	case r.Tenant == AllTenants && r.Role != RoleAdmin:
		return fmt.Errorf("server: API key %q: tenant %q is for admin keys only", r.ID, AllTenants)
	}
	return nil
}

// KeyRing holds the API keys a server accepts. It is read-only once built
// and safe for concurrent use.
type KeyRing struct {
	keys []keyEntry
}

type keyEntry struct {
	rec  APIKeyRecord
	hash [sha256.Size]byte
}

// keysFile is the keys file's layout: {"keys": [APIKeyRecord...]}.
type keysFile struct {
	Keys []APIKeyRecord `yaml:"keys" json:"keys"`
}

// NewKeyRing checks recs (ids unique, roles known, tenants set, hashes 64
// hex digits) and builds a KeyRing from them.
func NewKeyRing(recs []APIKeyRecord) (*KeyRing, error) {
	kr := &KeyRing{}
	seen := map[string]bool{}
	for _, r := range recs {
		if err := r.validateFields(); err != nil {
			return nil, err
		}
		if seen[r.ID] {
			return nil, fmt.Errorf("server: API key %q: listed twice", r.ID)
		}
		seen[r.ID] = true
		h, err := hex.DecodeString(r.SHA256)
		if err != nil || len(h) != sha256.Size {
			return nil, fmt.Errorf("server: API key %q: sha256 must be 64 hex digits (the SHA-256 of the key, never the key)", r.ID)
		}
		e := keyEntry{rec: r}
		copy(e.hash[:], h)
		kr.keys = append(kr.keys, e)
	}
	if len(kr.keys) == 0 {
		return nil, errors.New("server: no API keys: a key ring must hold at least one")
	}
	return kr, nil
}

// LoadKeyRing reads a keys file, YAML or JSON (JSON is valid YAML):
//
//	keys:
//	  - {id: game-eu, role: client, tenant: acme, sha256: 9f86d0…}
//
// It fails when the file cannot be read or parsed, when it has unknown
// fields, or for the reasons NewKeyRing gives.
func LoadKeyRing(path string) (*KeyRing, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("server: keys file: %w", err)
	}
	var f keysFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("server: keys file %s: %w", path, err)
	}
	kr, err := NewKeyRing(f.Keys)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return kr, nil
}

// Lookup returns the principal of key. It hashes key and compares the hash
// with every stored hash in constant time, so neither the time taken nor
// an early exit says which stored key came close.
func (kr *KeyRing) Lookup(key string) (Principal, bool) {
	sum := sha256.Sum256([]byte(key))
	found := -1
	for i := range kr.keys {
		if subtle.ConstantTimeCompare(sum[:], kr.keys[i].hash[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return Principal{}, false
	}
	r := kr.keys[found].rec
	return Principal{ID: "key:" + r.ID, Role: r.Role, Tenant: r.Tenant}, true
}

// Len returns the number of keys.
func (kr *KeyRing) Len() int { return len(kr.keys) }

// JWTLeeway is the clock skew tolerated on a JWT's exp, nbf and iat.
const JWTLeeway = 30 * time.Second

// JWTVerifier accepts HS256 JWTs signed with one shared secret. Tokens
// must carry exp, sub (the player id), role and tenant. Every other
// algorithm, "none" and RS256 included, is refused.
type JWTVerifier struct {
	secret []byte
	parser *jwt.Parser
}

// MinJWTSecretBytes is the shortest HS256 secret NewJWTVerifier accepts:
// 256 bits, the size of the HMAC-SHA-256 output.
const MinJWTSecretBytes = 32

// NewJWTVerifier verifies tokens signed with secret. It fails when the
// secret is shorter than MinJWTSecretBytes.
func NewJWTVerifier(secret []byte) (*JWTVerifier, error) {
	if len(secret) < MinJWTSecretBytes {
		return nil, fmt.Errorf("server: JWT secret of %d bytes: need at least %d", len(secret), MinJWTSecretBytes)
	}
	return &JWTVerifier{secret: bytes.Clone(secret), parser: jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(JWTLeeway),
	)}, nil
}

// Claims are the claims Hearth reads from a JWT. Issuers put the player id
// in sub (RegisteredClaims.Subject).
type Claims struct {
	jwt.RegisteredClaims
	// Role is "client" or "admin".
	Role Role `json:"role"`
	// Tenant is the studio or game the player belongs to.
	Tenant string `json:"tenant"`
}

// Verify checks token's signature (HS256 only), its expiry (required,
// JWTLeeway of skew) and its claims (sub, a known role, tenant), and
// returns its principal. The error says what is wrong; jwt.ErrTokenExpired
// and the other golang-jwt errors are in its chain.
func (v *JWTVerifier) Verify(token string) (Principal, error) {
	var c Claims
	_, err := v.parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return v.secret, nil })
	if err != nil {
		return Principal{}, err
	}
	switch {
	case c.Subject == "":
		return Principal{}, errors.New("token has no sub (the player id)")
	case len(c.Subject) > protocol.MaxIDBytes:
		return Principal{}, fmt.Errorf("token sub is over %d bytes", protocol.MaxIDBytes)
	case !c.Role.valid():
		return Principal{}, fmt.Errorf("token role %q: want %q or %q", c.Role, RoleClient, RoleAdmin)
	case c.Tenant == "":
		return Principal{}, errors.New("token has no tenant")
	case c.Tenant == AllTenants && c.Role != RoleAdmin:
		return Principal{}, fmt.Errorf("token tenant %q is for admins only", AllTenants)
	}
	return Principal{ID: "jwt:" + c.Subject, Role: c.Role, Tenant: c.Tenant, Player: c.Subject, Expires: c.ExpiresAt.Time}, nil
}

// AuthSubprotocolPrefix starts the Sec-WebSocket-Protocol entry that
// carries a credential from clients that cannot set an Authorization
// header (browsers): "hearth.bearer.<key or JWT>", offered beside
// hearth.v1.msgpack or hearth.v1.json. The server never selects it, so it
// is never echoed back.
const AuthSubprotocolPrefix = "hearth.bearer."

// authFailure is a refused credential: the HTTP status, the protocol error
// code and the reason told to the client.
type authFailure struct {
	status int
	code   string
	msg    string
}

// authEnabled reports whether the server checks credentials.
func (s *Server) authEnabled() bool { return s.opts.Keys != nil || s.opts.JWT != nil }

// authenticate checks r's credential against the server's keys and JWT
// verifier. Without authentication configured every request passes as an
// anonymous client.
func (s *Server) authenticate(r *http.Request) (Principal, *authFailure) {
	return authenticate(s.opts.Keys, s.opts.JWT, r)
}

// credential returns the bearer credential of r: the Authorization header's,
// else the one in Sec-WebSocket-Protocol.
func credential(r *http.Request) (string, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, cred, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return "", false
		}
		return strings.TrimSpace(cred), true
	}
	for _, p := range websocket.Subprotocols(r) {
		if cred, ok := strings.CutPrefix(p, AuthSubprotocolPrefix); ok {
			return cred, true
		}
	}
	return "", false
}

// authenticate checks r's credential against keys and jwt (either may be
// nil). With neither, every request passes as an anonymous client.
func authenticate(keys *KeyRing, jwt *JWTVerifier, r *http.Request) (Principal, *authFailure) {
	if keys == nil && jwt == nil {
		return Principal{Role: RoleClient}, nil
	}
	cred, ok := credential(r)
	if !ok || cred == "" {
		return Principal{}, &authFailure{http.StatusUnauthorized, protocol.CodeUnauthorized,
			"no credential: send Authorization: Bearer <API key or JWT>, or offer the subprotocol " +
				AuthSubprotocolPrefix + "<API key or JWT> (docs/security.md)"}
	}
	if strings.Count(cred, ".") == 2 && jwt != nil {
		p, err := jwt.Verify(cred)
		if err != nil {
			return Principal{}, &authFailure{http.StatusUnauthorized, protocol.CodeUnauthorized, "invalid JWT: " + err.Error()}
		}
		return p, nil
	}
	if keys != nil {
		if p, ok := keys.Lookup(cred); ok {
			return p, nil
		}
		return Principal{}, &authFailure{http.StatusUnauthorized, protocol.CodeUnauthorized, "unknown API key"}
	}
	return Principal{}, &authFailure{http.StatusUnauthorized, protocol.CodeUnauthorized,
		"not a JWT (header.payload.signature), and this server takes no API keys"}
}

// writeJSONError answers an HTTP request with a JSON error body,
// {"code": ..., "message": ...}, the shape of an error frame's payload.
func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hearth"`)
	}
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(protocol.ErrorPayload{Code: code, Message: msg})
}

// refuse writes f and logs it at debug level (refusals are the client's
// business, and a flood of them must not flood the log).
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, f *authFailure) {
	s.metrics.authRefused.WithLabelValues(f.code).Inc()
	s.opts.Logger.Debug("request refused", "path", r.URL.Path, "remote", r.RemoteAddr, "code", f.code, "reason", f.msg)
	writeJSONError(w, f.status, f.code, f.msg)
}
