package auth

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Claims is the body of a registry token (docker's token spec).
type Claims struct {
	Issuer    string            `json:"iss"`
	Subject   string            `json:"sub"`
	Audience  string            `json:"aud"`
	ExpiresAt int64             `json:"exp"`
	NotBefore int64             `json:"nbf"`
	IssuedAt  int64             `json:"iat"`
	ID        string            `json:"jti"`
	Access    []ResourceActions `json:"access"`
}

type jwtHeader struct {
	Alg string `json:"alg"`
	Typ string `json:"typ"`
	Kid string `json:"kid"`
}

var b64 = base64.RawURLEncoding

// Reasons a token is refused; the challenge says invalid_token for each.
var (
	errMalformed   = errors.New("malformed token")
	errAlgorithm   = errors.New("token algorithm is not ES256")
	errUnknownKey  = errors.New("token signed by an unknown key")
	errSignature   = errors.New("token signature does not verify")
	errExpired     = errors.New("token expired or not yet valid")
	errWrongIssuer = errors.New("token issued by someone else or for another service")
)

// sign makes a compact ES256 JWS of claims with key.
func sign(key *signingKey, claims Claims) (string, error) {
	header, err := json.Marshal(jwtHeader{Alg: "ES256", Typ: "JWT", Kid: key.id})
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := b64.EncodeToString(header) + "." + b64.EncodeToString(body)
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key.private, digest[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + b64.EncodeToString(sig), nil
}

// verify checks a token's algorithm, key, signature, issuer, audience and
// lifetime, and returns its claims. Only ES256 under a key of ours is
// accepted: "alg: none" and every other algorithm are refused before any
// signature is looked at.
func verify(token string, keys func(kid string) *ecdsa.PublicKey, issuer, audience string, now time.Time) (Claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return Claims{}, errMalformed
	}
	var h jwtHeader
	if err := decodeSegment(parts[0], &h); err != nil {
		return Claims{}, errMalformed
	}
	if h.Alg != "ES256" {
		return Claims{}, errAlgorithm
	}
	pub := keys(h.Kid)
	if pub == nil {
		return Claims{}, errUnknownKey
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return Claims{}, errSignature
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(pub, digest[:], r, s) {
		return Claims{}, errSignature
	}
	var c Claims
	if err := decodeSegment(parts[1], &c); err != nil {
		return Claims{}, errMalformed
	}
	if c.Issuer != issuer || c.Audience != audience {
		return Claims{}, errWrongIssuer
	}
	if t := now.Unix(); t >= c.ExpiresAt || t < c.NotBefore {
		return Claims{}, errExpired
	}
	return c, nil
}

func decodeSegment(seg string, v any) error {
	raw, err := b64.DecodeString(seg)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decoding token: %w", err)
	}
	return nil
}
