// Package auth is Oyster's identity: the Docker registry token service
// (the realm that turns credentials into short-lived ES256 JWTs), the
// checks of those tokens on every /v2/ request, and who may do what.
//
// Callers authenticate at the realm with an htpasswd entry (bcrypt, the
// format distribution reads) or a robot token (`registry token create`),
// and receive a token carrying the scopes the policy grants: a user owns
// the namespace named after them, site admins own everything, and anyone,
// even without credentials, may pull from public namespaces.
//
// The package is a leaf: it knows nothing of the catalog, the web UI or
// the server, which plugs it into distribution's access-controller
// registry.
package auth
