package server

import (
	"errors"
	"fmt"
	"net/http"
)

// SecurityConfig names a deployment's security settings the way
// `hearth serve` takes them: files and the name of an environment
// variable, never a secret itself.
type SecurityConfig struct {
	// KeysFile is the API keys file (LoadKeyRing); "" accepts no API keys.
	KeysFile string
	// JWTSecretEnv names the environment variable that holds the HS256
	// secret (at least MinJWTSecretBytes bytes); "" accepts no JWTs.
	JWTSecretEnv string
	// AuditFile is the append-only audit log (OpenFileAudit); "" logs
	// admin actions to the server's logger instead.
	AuditFile string
	// Limits are the server's limits, as given.
	Limits Limits
}

// Security is a loaded SecurityConfig, ready for Options.
type Security struct {
	// Keys are the loaded API keys; nil without KeysFile.
	Keys *KeyRing
	// JWT verifies tokens with the secret; nil without JWTSecretEnv.
	JWT *JWTVerifier
	// Audit is the opened audit log; nil without AuditFile.
	Audit Audit
	// Limits are SecurityConfig.Limits.
	Limits Limits

	file *FileAudit
}

// LoadSecurity reads the keys file, the JWT secret (through getenv, e.g.
// os.Getenv) and opens the audit log. It fails when a file cannot be read
// or opened, when the keys file is invalid, or when JWTSecretEnv names a
// variable that is unset or shorter than MinJWTSecretBytes, or when a
// limit is invalid (as New would, but before anything is opened).
func LoadSecurity(cfg SecurityConfig, getenv func(string) string) (*Security, error) {
	l := cfg.Limits // fill writes defaults into its copy only
	if err := l.fill(); err != nil {
		return nil, err
	}
	sec := &Security{Limits: cfg.Limits}
	if cfg.KeysFile != "" {
		kr, err := LoadKeyRing(cfg.KeysFile)
		if err != nil {
			return nil, err
		}
		sec.Keys = kr
	}
	if cfg.JWTSecretEnv != "" {
		secret := getenv(cfg.JWTSecretEnv)
		if secret == "" {
			return nil, fmt.Errorf("server: JWT secret: environment variable %s is not set", cfg.JWTSecretEnv)
		}
		v, err := NewJWTVerifier([]byte(secret))
		if err != nil {
			return nil, fmt.Errorf("%w (from $%s)", err, cfg.JWTSecretEnv)
		}
		sec.JWT = v
	}
	if cfg.AuditFile != "" {
		a, err := OpenFileAudit(cfg.AuditFile)
		if err != nil {
			return nil, err
		}
		sec.file, sec.Audit = a, a
	}
	return sec, nil
}

// Apply sets o's Keys, JWT, Audit (when loaded) and Limits.
func (s *Security) Apply(o *Options) {
	o.Keys, o.JWT, o.Limits = s.Keys, s.JWT, s.Limits
	if s.Audit != nil {
		o.Audit = s.Audit
	}
}

// Enabled reports whether credentials are checked (API keys or JWTs were
// loaded).
func (s *Security) Enabled() bool { return s.Keys != nil || s.JWT != nil }

// Authenticate checks the credential of an HTTP request the way the
// WebSocket server checks its upgrade requests (docs/security.md,
// "Credentials"): an API key or a JWT as `Authorization: Bearer`. It
// returns the credential's Principal, or an error saying what is wrong
// (no credential, unknown API key, invalid or expired JWT). Without keys
// or a JWT secret loaded, every request passes as an anonymous client.
// Other HTTP services of a deployment use it to take the same
// credentials, e.g. `hearth serve -openai`.
func (s *Security) Authenticate(r *http.Request) (Principal, error) {
	if cred, ok := credential(r); s.Enabled() && (!ok || cred == "") {
		// The WebSocket refusal also offers the subprotocol route, which
		// plain HTTP clients do not have.
		return Principal{}, errors.New("no credential: send Authorization: Bearer with your API key or JWT")
	}
	p, f := authenticate(s.Keys, s.JWT, r)
	if f != nil {
		return Principal{}, errors.New(f.msg)
	}
	return p, nil
}

// Close closes the audit log, if one was opened.
func (s *Security) Close() error {
	if s.file == nil {
		return nil
	}
	return s.file.Close()
}
