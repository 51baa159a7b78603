// Package standin is a Keystone v3 stand-in on loopback: tools that sign in
// with a password (Terraform, packer, rclone, anything built on
// gophercloud or keystoneauth) sign in to it with a one-time session
// secret, as often as they like, and get real tokens from the shared
// cache. The real password never leaves the process that runs it.
package standin

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Token is a Keystone token the stand-in hands out: helper.Token.
type Token interface {
	ID() string
	IssuedAt() time.Time
	ExpiresAt() time.Time
	// Body is Keystone's whole answer body, {"token": {...}}.
	Body() ([]byte, error)
}

// Config is what a stand-in needs. Token and Secret are required.
type Config struct {
	// Token returns a token that stays valid at least minTTL: from the
	// shared cache, or a new one from Keystone (helper.Get). The stand-in
	// calls it from one goroutine at a time.
	Token func(ctx context.Context, minTTL time.Duration) (Token, error)
	// MinTTL is what a token handed out must have left, at most a quarter
	// of the lifetime Keystone grants (see Server.minTTL).
	MinTTL time.Duration
	// Secret is the session secret callers sign in with (NewSecret).
	Secret string
	// Describe maps a failure of Token to the HTTP status and the message
	// the caller gets; nil answers 503 with the error's text. It is
	// called from one goroutine at a time.
	Describe func(error) (status int, message string)
	// Debugf, when set, receives one line per request. It never receives
	// a secret or a token.
	Debugf func(format string, args ...any)
	// Now is the clock that tells which served tokens are still valid;
	// nil means time.Now.
	Now func() time.Time
}

// Identity is what the stand-in announces and accepts: the user and the
// project of the tokens it hands out, as Keystone named them in the first
// token's body.
type Identity struct {
	UserID, UserName, UserDomainID, UserDomainName             string
	ProjectID, ProjectName, ProjectDomainID, ProjectDomainName string
}

// Server is a running stand-in.
type Server struct {
	cfg      Config
	identity Identity
	port     int
	http     *http.Server
	ln       net.Listener
	wrong    *limiter

	mu       sync.Mutex // one Token call at a time; guards what follows
	lifetime time.Duration
	served   map[string]served
}

// served is a token the stand-in handed out, for validation.
type served struct {
	expiresAt time.Time
	body      []byte
}

// maxServed bounds the tokens remembered for validation.
const maxServed = 32

// maxBodyBytes bounds a request body.
const maxBodyBytes = 64 << 10

// NewSecret returns a session secret: 256 random bits, printable ASCII.
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("cannot make a session secret: %w", err)
	}
	return "vkc-session-" + base64.RawURLEncoding.EncodeToString(b), nil
}

// New gets a first token (so that a profile that cannot sign in fails
// before any tool runs), learns the identity from it, and returns the
// stand-in that will serve on ln (a TCP listener on 127.0.0.1) once
// Serve is called.
func New(ctx context.Context, cfg Config, ln net.Listener) (*Server, error) {
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok || !addr.IP.Equal(net.IPv4(127, 0, 0, 1)) {
		return nil, fmt.Errorf("the stand-in listens on 127.0.0.1 only, not %s", ln.Addr())
	}
	if cfg.Token == nil || len(cfg.Secret) < 22 {
		return nil, errors.New("the stand-in needs a token source and a session secret of at least 128 bits")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, port: addr.Port, ln: ln, served: map[string]served{}, wrong: newLimiter(cfg.Now)}
	// A first token of any age teaches the lifetime; only then is the
	// minimum known (a cached token that is good enough costs nothing).
	if _, err := s.token(ctx, 0); err != nil {
		return nil, err
	}
	tok, err := s.token(ctx, -1)
	if err != nil {
		return nil, err
	}
	body, err := tok.Body()
	if err != nil {
		return nil, err
	}
	if s.identity, err = identityOf(body); err != nil {
		return nil, err
	}
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    maxBodyBytes,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	return s, nil
}

// Serve answers requests until Shutdown or Close; then it returns nil.
func (s *Server) Serve() error {
	if err := s.http.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops listening at once and waits, until ctx is done, for the
// requests being answered.
func (s *Server) Shutdown(ctx context.Context) error { return s.http.Shutdown(ctx) }

// Close stops listening and drops every connection at once.
func (s *Server) Close() error { return s.http.Close() }

// URL is the stand-in's auth URL: http://127.0.0.1:PORT/v3.
func (s *Server) URL() string { return "http://127.0.0.1:" + strconv.Itoa(s.port) + "/v3" }

// Identity is the user and project the stand-in announces.
func (s *Server) Identity() Identity { return s.identity }

// token returns a token from cfg.Token and remembers it for validation.
// minTTL < 0 means s.minTTL().
func (s *Server) token(ctx context.Context, minTTL time.Duration) (Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if minTTL < 0 {
		minTTL = s.minTTL()
	}
	tok, err := s.cfg.Token(ctx, minTTL)
	if err != nil {
		return nil, err
	}
	if l := tok.ExpiresAt().Sub(tok.IssuedAt()); l > 0 {
		s.lifetime = l
	}
	body, err := tok.Body()
	if err != nil {
		return nil, err
	}
	s.remember(tok.ID(), served{expiresAt: tok.ExpiresAt(), body: body})
	return tok, nil
}

// minTTL is cfg.MinTTL, but at most a quarter of the tokens' lifetime:
// with tokens shorter than the minimum, every sign-in would otherwise
// issue a new one. Tools sign in again when a token is refused, so a
// token they get need not last long. The caller holds s.mu.
func (s *Server) minTTL() time.Duration {
	if s.lifetime > 0 && s.lifetime/4 < s.cfg.MinTTL {
		return s.lifetime / 4
	}
	return s.cfg.MinTTL
}

// remember records a served token, forgetting expired ones and, past
// maxServed, the one that expires first. The caller holds s.mu.
func (s *Server) remember(id string, t served) {
	now := s.cfg.Now()
	for k, v := range s.served {
		if !now.Before(v.expiresAt) {
			delete(s.served, k)
		}
	}
	if _, ok := s.served[id]; !ok && len(s.served) >= maxServed {
		first := ""
		for k, v := range s.served {
			if first == "" || v.expiresAt.Before(s.served[first].expiresAt) {
				first = k
			}
		}
		delete(s.served, first)
	}
	s.served[id] = t
}

// lookup returns a served token that has not expired.
func (s *Server) lookup(id string) (served, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.served[id]
	if !ok || !s.cfg.Now().Before(t.expiresAt) {
		return served{}, false
	}
	return t, true
}

// identityOf reads the user and project from a token body.
func identityOf(body []byte) (Identity, error) {
	type named struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		Domain struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"domain"`
	}
	var b struct {
		Token struct {
			User    named `json:"user"`
			Project named `json:"project"`
		} `json:"token"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return Identity{}, fmt.Errorf("the token body cannot be decoded: %w", err)
	}
	u, p := b.Token.User, b.Token.Project
	id := Identity{UserID: u.ID, UserName: u.Name, UserDomainID: u.Domain.ID, UserDomainName: u.Domain.Name,
		ProjectID: p.ID, ProjectName: p.Name, ProjectDomainID: p.Domain.ID, ProjectDomainName: p.Domain.Name}
	for _, f := range []struct{ name, v string }{
		{"user name", id.UserName}, {"user domain name", id.UserDomainName}, {"project id", id.ProjectID},
		{"user id", id.UserID}, {"project name", id.ProjectName}, {"project domain id", id.ProjectDomainID},
	} {
		if err := checkName(f.v); err != nil {
			return Identity{}, fmt.Errorf("the token's %s %v", f.name, err)
		}
	}
	return id, nil
}

// checkName refuses what cannot be handed to a shell or compared safely:
// empty, long, not UTF-8, or with control or format characters.
func checkName(v string) error {
	switch {
	case v == "":
		return errors.New("is missing")
	case len(v) > 255:
		return errors.New("is longer than 255 bytes")
	case !utf8.ValidString(v):
		return errors.New("is not UTF-8")
	}
	for _, r := range v {
		if unicode.In(r, unicode.Cc, unicode.Cf) {
			return errors.New("holds a control or format character")
		}
	}
	return nil
}
