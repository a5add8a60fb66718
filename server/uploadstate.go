package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"
)

// uploadState is distribution's blobUploadState (registry/handlers/hmac.go,
// v3.1.2), the signed "_state" of an upload's Location: same fields in the
// same order, so that the tokens either side writes the other accepts.
type uploadState struct {
	Name      string
	UUID      string
	Offset    int64
	StartedAt time.Time
}

var errBadUploadState = errors.New("upload state token does not verify")

// unpackUploadState checks token's HMAC-SHA256 under secret and decodes
// it, as distribution does.
func unpackUploadState(secret, token string) (uploadState, error) {
	var state uploadState
	raw, err := base64.URLEncoding.DecodeString(token)
	if err != nil {
		return state, err
	}
	mac := hmac.New(sha256.New, []byte(secret))
	if len(raw) < mac.Size() {
		return state, errBadUploadState
	}
	sum, message := raw[:mac.Size()], raw[mac.Size():]
	mac.Write(message)
	if !hmac.Equal(mac.Sum(nil), sum) {
		return state, errBadUploadState
	}
	return state, json.Unmarshal(message, &state)
}

// packUploadState signs state as distribution does: base64url(HMAC || JSON).
func packUploadState(secret string, state uploadState) (string, error) {
	message, err := json.Marshal(state)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(message)
	return base64.URLEncoding.EncodeToString(append(mac.Sum(nil), message...)), nil
}
