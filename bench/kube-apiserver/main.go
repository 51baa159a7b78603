// Command kube-apiserver is the stand-in Kubernetes API server of
// scripts/bench-slow.sh: an HTTPS server on 127.0.0.1 that, like a
// kube-apiserver with k8s-keystone-auth as its token webhook, accepts a
// request only when its bearer token validates against Keystone
// (GET /v3/auth/tokens, the token as both X-Auth-Token and
// X-Subject-Token), and answers every accepted request with a NamespaceList.
//
// A kube-apiserver caches each webhook verdict for
// --authentication-token-webhook-cache-ttl (2 minutes by default); -cache-ttl
// does the same here (0 validates every request).
//
//	kube-apiserver -auth-url URL -ca-out FILE -url-out FILE [-cache-ttl 2m]
//
// It writes its self-signed certificate (PEM) to -ca-out and its URL to
// -url-out once it listens, and runs until killed.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

func main() {
	authURL := flag.String("auth-url", "", "Keystone v3 URL, e.g. http://127.0.0.1:5000/v3")
	caOut := flag.String("ca-out", "", "write the server certificate (PEM) here")
	urlOut := flag.String("url-out", "", "write the server URL here once listening")
	cacheTTL := flag.Duration("cache-ttl", 2*time.Minute, "how long an accepted token is remembered (kube-apiserver's webhook cache TTL); 0: never")
	flag.Parse()
	if *authURL == "" || *caOut == "" || *urlOut == "" {
		flag.Usage()
		os.Exit(2)
	}
	cert, pemBytes, err := selfSigned()
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	v := &validator{
		url:    strings.TrimSuffix(*authURL, "/") + "/auth/tokens",
		ttl:    *cacheTTL,
		seen:   map[[32]byte]time.Time{},
		client: &http.Client{Timeout: 30 * time.Second},
	}
	srv := &http.Server{
		Handler:           v,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}},
		ReadHeaderTimeout: 10 * time.Second,
	}
	if err := writeFile(*caOut, pemBytes); err != nil {
		log.Fatal(err)
	}
	if err := writeFile(*urlOut, []byte("https://"+ln.Addr().String()+"\n")); err != nil {
		log.Fatal(err)
	}
	log.Fatal(srv.ServeTLS(ln, "", ""))
}

type validator struct {
	url    string
	ttl    time.Duration
	client *http.Client

	mu   sync.Mutex
	seen map[[32]byte]time.Time // sha256 of an accepted token -> when its verdict expires
}

func (v *validator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	w.Header().Set("Content-Type", "application/json")
	if !ok || !v.valid(tok) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`)
		return
	}
	fmt.Fprint(w, `{"kind":"NamespaceList","apiVersion":"v1","metadata":{},"items":[{"metadata":{"name":"default"}}]}`)
}

func (v *validator) valid(tok string) bool {
	key := sha256.Sum256([]byte(tok))
	now := time.Now()
	v.mu.Lock()
	exp, hit := v.seen[key]
	v.mu.Unlock()
	if hit && now.Before(exp) {
		return true
	}
	req, err := http.NewRequest(http.MethodGet, v.url, nil)
	if err != nil {
		return false
	}
	req.Header.Set("X-Auth-Token", tok)
	req.Header.Set("X-Subject-Token", tok)
	resp, err := v.client.Do(req)
	if err != nil {
		log.Printf("validating a token: %v", err)
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	if v.ttl > 0 {
		v.mu.Lock()
		v.seen[key] = now.Add(v.ttl)
		v.mu.Unlock()
	}
	return true
}

func selfSigned() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "vkc-bench-kube-apiserver"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// writeFile writes data atomically (temp file + rename), so that a reader
// polling for path never sees it half written.
func writeFile(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
