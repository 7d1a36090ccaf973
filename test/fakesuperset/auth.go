package fakesuperset

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// issue signs a flask-jwt-extended style token for the user.
func (s *Server) issue(u *User, kind string, ttl time.Duration, fresh bool) (string, error) {
	n := s.jti.Add(1)
	t := time.Now()
	claims := jwt.MapClaims{
		"sub":   strconv.FormatInt(u.ID, 10),
		"iat":   t.Unix(),
		"nbf":   t.Unix(),
		"exp":   t.Add(ttl).Unix(),
		"jti":   strconv.FormatInt(n, 10),
		"type":  kind,
		"fresh": fresh,
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.secret)
}

// authFailure is an answer flask-jwt-extended or FAB would give.
type authFailure struct {
	status int
	body   map[string]any
}

func (f *authFailure) write(w http.ResponseWriter) { writeJSON(w, f.status, f.body) }

// authenticate resolves the bearer token (JWT or API key) to a user. want
// is "access" or "refresh".
func (s *Server) authenticate(r *http.Request, want string) (*User, *authFailure) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, &authFailure{http.StatusUnauthorized, map[string]any{"msg": "Missing Authorization Header"}}
	}
	raw, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return nil, &authFailure{http.StatusUnauthorized, map[string]any{"msg": "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'"}}
	}
	if strings.HasPrefix(raw, "sst_") && want == "access" {
		s.mu.RLock()
		uid, ok := s.apiKeys[raw]
		u := s.users[uid]
		s.mu.RUnlock()
		if !ok || u == nil {
			return nil, &authFailure{http.StatusUnauthorized, map[string]any{"message": "Not authorized"}}
		}
		return u, nil
	}
	claims := jwt.MapClaims{}
	_, err := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"})).ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) {
		return s.secret, nil
	})
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, &authFailure{http.StatusUnauthorized, map[string]any{"msg": "Token has expired"}}
	case errors.Is(err, jwt.ErrTokenMalformed):
		// flask-jwt-extended answers a token it cannot decode with 422.
		return nil, &authFailure{http.StatusUnprocessableEntity, map[string]any{"msg": "Not enough segments"}}
	case err != nil:
		return nil, &authFailure{http.StatusUnprocessableEntity, map[string]any{"msg": "Signature verification failed"}}
	}
	if kind, _ := claims["type"].(string); kind != want {
		if want == "access" {
			return nil, &authFailure{http.StatusUnprocessableEntity, map[string]any{"msg": "Only non-refresh tokens are allowed"}}
		}
		return nil, &authFailure{http.StatusUnprocessableEntity, map[string]any{"msg": "Only refresh tokens are allowed"}}
	}
	if want == "access" {
		jti, _ := strconv.ParseInt(fmt.Sprint(claims["jti"]), 10, 64)
		if jti <= s.expiredUpTo.Load() {
			return nil, &authFailure{http.StatusUnauthorized, map[string]any{"msg": "Token has expired"}}
		}
	}
	sub, _ := claims["sub"].(string)
	uid, _ := strconv.ParseInt(sub, 10, 64)
	s.mu.RLock()
	u := s.users[uid]
	s.mu.RUnlock()
	if u == nil {
		return nil, &authFailure{http.StatusUnauthorized, map[string]any{"msg": "Error loading the user " + sub}}
	}
	return u, nil
}

// POST /api/v1/security/login
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Username *string `json:"username"`
		Password *string `json:"password"`
		Provider string  `json:"provider"`
		Refresh  bool    `json:"refresh"`
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		message(w, http.StatusBadRequest, "Request payload is not JSON")
		return
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		message(w, http.StatusBadRequest, "Request payload is not JSON")
		return
	}
	if body.Username == nil || body.Password == nil {
		message(w, http.StatusBadRequest, map[string]any{"username": []string{"Missing data for required field."}})
		return
	}
	if body.Provider != "" && body.Provider != "db" {
		// The fake runs AUTH_DB, which accepts only the db provider.
		message(w, http.StatusBadRequest, "Invalid provider")
		return
	}
	s.mu.RLock()
	u, err := s.userByName(*body.Username)
	s.mu.RUnlock()
	if err != nil || u.Password != *body.Password {
		message(w, http.StatusUnauthorized, "Not authorized")
		return
	}
	access, err := s.issue(u, "access", s.opts.AccessTokenTTL, true)
	if err != nil {
		message(w, http.StatusInternalServerError, err.Error())
		return
	}
	out := map[string]string{"access_token": access}
	if body.Refresh {
		if out["refresh_token"], err = s.issue(u, "refresh", defaultRefreshTokenTTL, false); err != nil {
			message(w, http.StatusInternalServerError, err.Error())
			return
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// POST /api/v1/security/refresh
func (s *Server) refresh(w http.ResponseWriter, r *http.Request) {
	u, fail := s.authenticate(r, "refresh")
	if fail != nil {
		fail.write(w)
		return
	}
	access, err := s.issue(u, "access", s.opts.AccessTokenTTL, false)
	if err != nil {
		message(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"access_token": access})
}

// GET /api/v1/security/csrf_token/
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) {
	if _, fail := s.authenticate(r, "access"); fail != nil {
		fail.write(w)
		return
	}
	session, token := randomHex(16), randomHex(20)
	s.mu.Lock()
	s.sessions[session] = token
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: "session", Value: session, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	writeJSON(w, http.StatusOK, map[string]string{"result": token})
}

// checkCSRF is Flask-WTF's check, which Superset runs on every mutating
// call before authentication; the messages are Flask-WTF's.
func (s *Server) checkCSRF(w http.ResponseWriter, r *http.Request) bool {
	fail := func(msg string) bool {
		supersetErrors(w, http.StatusBadRequest, "400 Bad Request: "+msg)
		return false
	}
	token := r.Header.Get("X-CSRFToken")
	if token == "" {
		return fail("The CSRF token is missing.")
	}
	ck, err := r.Cookie("session")
	if err != nil {
		return fail("The CSRF session token is missing.")
	}
	s.mu.RLock()
	want, ok := s.sessions[ck.Value]
	s.mu.RUnlock()
	if !ok {
		return fail("The CSRF session token is missing.")
	}
	if want != token {
		return fail("The CSRF tokens do not match.")
	}
	return true
}
