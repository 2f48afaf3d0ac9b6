package server

import (
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"unicode/utf8"
)

// basicAuth is the original's supervisor_auth_handler: HTTP Basic on every
// path, with "{SHA}<hex>" stored passwords compared as hex(sha1(given)).
type basicAuth struct {
	user, password string
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
	if !a.authorized(user, password) {
		unauthorized(w)
		return
	}
	a.next.ServeHTTP(w, r)
}

// authorized compares in constant time (for equal lengths).
func (a *basicAuth) authorized(user, password string) bool {
	userOK := subtle.ConstantTimeCompare([]byte(user), []byte(a.user)) == 1
	var passOK bool
	if hash, ok := strings.CutPrefix(a.password, "{SHA}"); ok {
		sum := sha1.Sum([]byte(password))
		passOK = subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(hash)) == 1
	} else {
		passOK = subtle.ConstantTimeCompare([]byte(password), []byte(a.password)) == 1
	}
	return userOK && passOK
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
