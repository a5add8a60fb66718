package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base32"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// signingKey is one ES256 key: id is the kid tokens name it by.
type signingKey struct {
	id      string
	created time.Time
	private *ecdsa.PrivateKey
}

// keyRing holds the signing keys under <data>/auth/keys, one PEM file per
// key named <created unix>-<kid>.pem. The newest key signs until it is
// older than rotate; then a new key is made. Older keys still verify the
// tokens they signed until those expire (rotate + ttl), then are deleted.
type keyRing struct {
	dir    string
	rotate time.Duration
	ttl    time.Duration

	mu   sync.RWMutex
	keys []*signingKey // newest last
}

func openKeyRing(dir string, rotate, ttl time.Duration, now time.Time) (*keyRing, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("auth: creating key directory: %w", err)
	}
	ring := &keyRing{dir: dir, rotate: rotate, ttl: ttl}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("auth: reading key directory: %w", err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".pem") {
			continue
		}
		k, err := readKey(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ring.keys = append(ring.keys, k)
	}
	sort.Slice(ring.keys, func(i, j int) bool { return ring.keys[i].created.Before(ring.keys[j].created) })
	if _, err := ring.current(now); err != nil {
		return nil, err
	}
	return ring, nil
}

func readKey(path string) (*signingKey, error) {
	created, kid, ok := strings.Cut(strings.TrimSuffix(filepath.Base(path), ".pem"), "-")
	unix, err := strconv.ParseInt(created, 10, 64)
	if !ok || err != nil {
		return nil, fmt.Errorf("auth: key file %s is not named <unix time>-<kid>.pem", path)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: reading signing key: %w", err)
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, fmt.Errorf("auth: %s holds no PEM block", path)
	}
	priv, err := x509.ParseECPrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("auth: %s: %w", path, err)
	}
	return &signingKey{id: kid, created: time.Unix(unix, 0), private: priv}, nil
}

// current returns the key that signs now, rotating and pruning first.
func (r *keyRing) current(now time.Time) (*signingKey, error) {
	r.mu.RLock()
	n := len(r.keys)
	fresh := n > 0 && now.Sub(r.keys[n-1].created) < r.rotate
	var k *signingKey
	if fresh {
		k = r.keys[n-1]
	}
	r.mu.RUnlock()
	if fresh {
		return k, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.keys); n > 0 && now.Sub(r.keys[n-1].created) < r.rotate {
		return r.keys[n-1], nil // another request rotated meanwhile
	}
	k, err := r.generate(now)
	if err != nil {
		return nil, err
	}
	r.keys = append(r.keys, k)
	r.prune(now)
	return k, nil
}

// prune deletes keys that can no longer have unexpired tokens: those
// retired (a newer key exists) for longer than a token lives.
func (r *keyRing) prune(now time.Time) {
	kept := r.keys[:0]
	for i, k := range r.keys {
		if i+1 < len(r.keys) && now.Sub(r.keys[i+1].created) > r.ttl {
			_ = os.Remove(filepath.Join(r.dir, keyFileName(k)))
			continue
		}
		kept = append(kept, k)
	}
	r.keys = kept
}

func (r *keyRing) generate(now time.Time) (*signingKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		return nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(pubDER)
	k := &signingKey{id: strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:15])), created: time.Unix(now.Unix(), 0), private: priv}
	path := filepath.Join(r.dir, keyFileName(k))
	if err := os.WriteFile(path+".tmp", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, fmt.Errorf("auth: writing signing key: %w", err)
	}
	return k, os.Rename(path+".tmp", path)
}

func keyFileName(k *signingKey) string {
	return strconv.FormatInt(k.created.Unix(), 10) + "-" + k.id + ".pem"
}

// public returns the verifying key named kid, or nil.
func (r *keyRing) public(kid string) *ecdsa.PublicKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, k := range r.keys {
		if k.id == kid {
			return &k.private.PublicKey
		}
	}
	return nil
}
