package api

import "time"

// Token is a robot token as /api/v1/tokens lists it: never its secret.
type Token struct {
	ID      string       `json:"id"`
	Name    string       `json:"name"`
	Owner   string       `json:"owner"` // "" is an admin's (made with `registry token`)
	Scopes  []TokenScope `json:"scopes"`
	Created time.Time    `json:"created"`
	Expires *time.Time   `json:"expires,omitempty"` // absent: never
	Revoked bool         `json:"revoked"`
	Expired bool         `json:"expired"` // as of the answer
}

// TokenScope lets a token act on every repository of one namespace.
type TokenScope struct {
	Namespace string   `json:"namespace"`
	Actions   []string `json:"actions"`
}

// TokenList answers GET /api/v1/tokens: the caller's tokens (an admin's:
// everyone's), newest first.
type TokenList struct {
	Tokens []Token `json:"tokens"`
}

// TokenRequest is the body of POST /api/v1/tokens. Scopes are
// NAMESPACE:ACTIONS (alice:pull,push); Expires is required.
type TokenRequest struct {
	Name    string    `json:"name"`
	Scopes  []string  `json:"scopes"`
	Expires time.Time `json:"expires"`
}

// CreatedToken answers POST /api/v1/tokens: the token and its secret,
// which is shown this once and never again.
type CreatedToken struct {
	Token  Token  `json:"token"`
	Secret string `json:"secret"`
}
