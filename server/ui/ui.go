// Package ui is the question page: a person picks a database, asks in
// plain language, follows up, and sees the validated SQL, or validates SQL
// of their own. Its assets are embedded in the binary; the page speaks only
// to the service's own HTTP API, with the caller's own token.
package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var static embed.FS

// AssetPrefix is the path the assets are served under.
const AssetPrefix = "/ui/"

// asset is one embedded file under its content-hashed name.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// Handler serves the page at "/" and its assets under AssetPrefix.
type Handler struct {
	index  []byte
	etag   string
	assets map[string]asset // by served name (hashed, and plain for the licence)
}

// New builds the handler: every asset gets a name carrying its content
// hash, so it can be cached forever, and the page refers to those names.
func New() (*Handler, error) {
	h := &Handler{assets: map[string]asset{}}
	hashed := map[string]string{}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == "static/index.html" {
			return err
		}
		body, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, "static/")
		sum := sha256.Sum256(body)
		tag := hex.EncodeToString(sum[:])[:12]
		ext := path.Ext(rel)
		name := rel
		if ext == ".js" || ext == ".css" {
			name = strings.TrimSuffix(rel, ext) + "." + tag + ext
		}
		ct := mime.TypeByExtension(ext)
		if ct == "" {
			ct = "text/plain; charset=utf-8"
		}
		h.assets[name] = asset{body: body, contentType: ct, etag: `"` + tag + `"`}
		hashed[rel] = AssetPrefix + name
		return nil
	})
	if err != nil {
		return nil, err
	}
	page, err := static.ReadFile("static/index.html")
	if err != nil {
		return nil, err
	}
	t, err := template.New("index").Funcs(template.FuncMap{
		"asset": func(rel string) (string, error) {
			if u, ok := hashed[rel]; ok {
				return u, nil
			}
			return "", fmt.Errorf("ui: no asset %q", rel)
		},
	}).Parse(string(page))
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, nil); err != nil {
		return nil, err
	}
	h.index = b.Bytes()
	sum := sha256.Sum256(h.index)
	h.etag = `"` + hex.EncodeToString(sum[:])[:16] + `"`
	return h, nil
}

// Index serves the page. It is revalidated on every load (ETag), so a new
// binary's page is seen at once; the assets it names never change.
func (h *Handler) Index(w http.ResponseWriter, r *http.Request) {
	serve(w, r, h.index, "text/html; charset=utf-8", h.etag, "no-cache")
}

// Assets serves the files under AssetPrefix.
func (h *Handler) Assets(w http.ResponseWriter, r *http.Request) {
	a, ok := h.assets[strings.TrimPrefix(r.URL.Path, AssetPrefix)]
	if !ok {
		http.NotFound(w, r)
		return
	}
	serve(w, r, a.body, a.contentType, a.etag, "public, max-age=31536000, immutable")
}

// Size is the bytes the page and every asset it loads weigh, uncompressed.
func (h *Handler) Size() int {
	n := len(h.index)
	for name, a := range h.assets {
		if !strings.HasSuffix(name, ".LICENSE") {
			n += len(a.body)
		}
	}
	return n
}

func serve(w http.ResponseWriter, r *http.Request, body []byte, contentType, etag, cacheControl string) {
	hd := w.Header()
	hd.Set("Cache-Control", cacheControl)
	hd.Set("ETag", etag)
	hd.Set("X-Content-Type-Options", "nosniff")
	// Only this origin's scripts, styles and API: no CDN, no inline code.
	hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'")
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd.Set("Content-Type", contentType)
	_, _ = w.Write(body)
}
