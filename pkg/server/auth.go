package server

import (
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gosupervisor/gosupervisor/pkg/access"
	"github.com/gosupervisor/gosupervisor/pkg/config"
)

// basicAuth is the original's supervisor_auth_handler: HTTP Basic on every
// path, with "{SHA}<hex>" stored passwords compared as hex(sha1(given)).
// Besides the section's username/password (an admin) it accepts the
// [user:NAME] users (EXTENSIONS.md §7) with their roles, and puts the
// caller in the request's context (pkg/access).
type basicAuth struct {
	user, password string
	hasSection     bool          // the section has username/password
	users          []config.User // [user:NAME], valid on every server
	audit          access.Logger // nil: no audit or refusal lines
	delay          time.Duration // after wrong credentials
	next           http.Handler
}

func (a *basicAuth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	scheme, cookie, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "basic") {
		unauthorized(w)
		return
	}
	decoded, ok := decodeBase64(cookie)
	if !ok {
		Error(w, http.StatusBadRequest) // the original: malformed authorization info
		return
	}
	user, password, ok := strings.Cut(decoded, ":")
	if !ok {
		// The original unpacks "user:password" without checking and fails
		// with an internal error.
		Error(w, http.StatusInternalServerError)
		return
	}
	role, ok := a.authorized(user, password)
	if !ok {
		// A delay against guessing; the client gets its 401 afterwards
		// (or nothing, when it leaves first).
		if a.delay > 0 {
			t := time.NewTimer(a.delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		unauthorized(w)
		return
	}
	p := &access.Principal{User: user, Role: role, Peer: peerName(r), Roles: len(a.users) > 0, Log: a.audit}
	a.next.ServeHTTP(w, r.WithContext(access.With(r.Context(), p)))
}

// authorized finds the credentials' role: admin for the section's
// username/password, else a matching [user:NAME]'s. Every candidate is
// compared, in constant time (for equal lengths), so that the answer's
// timing does not tell which user names exist.
func (a *basicAuth) authorized(user, password string) (config.Role, bool) {
	role, found := config.RoleNone, false
	if a.hasSection && credentialsMatch(user, password, a.user, a.password) {
		role, found = config.RoleAdmin, true
	}
	for _, u := range a.users {
		if credentialsMatch(user, password, u.Name, u.Password) && !found {
			role, found = u.Role, true
		}
	}
	return role, found
}

// credentialsMatch compares given credentials with stored ones, stored
// passwords being plain or "{SHA}" and hex(sha1(password)).
func credentialsMatch(user, password, wantUser, wantPassword string) bool {
	userOK := subtle.ConstantTimeCompare([]byte(user), []byte(wantUser)) == 1
	var passOK bool
	if hash, ok := strings.CutPrefix(wantPassword, "{SHA}"); ok {
		sum := sha1.Sum([]byte(password))
		passOK = subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(hash)) == 1
	} else {
		passOK = subtle.ConstantTimeCompare([]byte(password), []byte(wantPassword)) == 1
	}
	return userOK && passOK
}

// openServer is a server without authentication: as in the original anyone
// may do anything, so the caller is an admin without a name.
func openServer(audit access.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := &access.Principal{Role: config.RoleAdmin, Peer: peerName(r), Log: audit}
		next.ServeHTTP(w, r.WithContext(access.With(r.Context(), p)))
	})
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	w.Header().Set("WWW-Authenticate", `Basic realm="default"`)
	Error(w, http.StatusUnauthorized)
}

// decodeBase64 decodes like Python's base64.decodebytes: characters outside
// the alphabet are skipped, padding is required, the result must be UTF-8.
func decodeBase64(s string) (string, bool) {
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '+', r == '/', r == '=':
			return r
		}
		return -1
	}, s)
	b, err := base64.StdEncoding.DecodeString(clean)
	if err != nil || !utf8.Valid(b) {
		return "", false
	}
	return string(b), true
}
