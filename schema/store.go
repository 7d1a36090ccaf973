package schema

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync/atomic"
	"time"
)

// ErrUnknownDatabase is returned (wrapped) for a database name or id the
// store does not know.
var ErrUnknownDatabase = errors.New("unknown database")

// Status tells where a database's catalog came from and how fresh it is.
type Status struct {
	// Source is "file" or "superset".
	Source string
	// Version is the catalog's content hash (Database.Version).
	Version  string
	SyncedAt time.Time
	// Stale is true when the last refresh failed and the last good catalog
	// is being served.
	Stale     bool
	LastError string
}

// Entry is one database with the state of its catalog.
type Entry struct {
	Database *Database
	Status   Status
}

// Store serves database catalogs. Implementations are safe for concurrent use.
type Store interface {
	// Databases lists every database, sorted by name. A database whose
	// catalog has never been fetched is listed with no tables.
	Databases(ctx context.Context) ([]Entry, error)
	// Get returns the catalog of the database named name (or whose Superset
	// id is name in decimal), fetching it if it has none yet.
	Get(ctx context.Context, name string) (Entry, error)
	// Refresh fetches the database's catalog from its source now.
	Refresh(ctx context.Context, name string) (Entry, error)
	// Ready reports nil when the store can answer: its catalog source is
	// loaded or reachable. Databases without a catalog, or with a stale
	// one, do not make it unready (Databases reports their state); the
	// error says what is missing otherwise.
	Ready(ctx context.Context) error
}

// FileStore serves a catalog loaded from a schema file. Refresh re-reads the
// file when it was loaded from one.
type FileStore struct {
	path  string
	state atomic.Pointer[fileState]
}

type fileState struct {
	catalog  *Catalog
	loaded   time.Time
	versions map[*Database]string // hashed once per load: hashing a large catalog takes tens of milliseconds
}

func newFileState(c *Catalog) *fileState {
	st := &fileState{catalog: c, loaded: time.Now(), versions: make(map[*Database]string, len(c.Databases))}
	for _, d := range c.Databases {
		st.versions[d] = d.Version()
	}
	return st
}

// NewFileStore serves c; path, when not empty, is re-read by Refresh.
func NewFileStore(c *Catalog, path string) *FileStore {
	s := &FileStore{path: path}
	s.state.Store(newFileState(c))
	return s
}

func (st *fileState) entry(d *Database) Entry {
	return Entry{Database: d, Status: Status{Source: "file", Version: st.versions[d], SyncedAt: st.loaded}}
}

func (s *FileStore) Databases(context.Context) ([]Entry, error) {
	st := s.state.Load()
	out := make([]Entry, 0, len(st.catalog.Databases))
	for _, d := range st.catalog.Databases {
		out = append(out, st.entry(d))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Database.Name < out[j].Database.Name })
	return out, nil
}

func (s *FileStore) Get(_ context.Context, name string) (Entry, error) {
	st := s.state.Load()
	d := st.catalog.Database(name)
	if d == nil {
		return Entry{}, fmt.Errorf("%w %q", ErrUnknownDatabase, name)
	}
	return st.entry(d), nil
}

// Refresh re-reads the schema file. The file is swapped in only when it
// parses, so a bad edit keeps the last good catalog.
func (s *FileStore) Refresh(ctx context.Context, name string) (Entry, error) {
	if s.path != "" {
		c, err := LoadFile(s.path)
		if err != nil {
			return Entry{}, err
		}
		s.state.Store(newFileState(c))
	}
	return s.Get(ctx, name)
}

func (s *FileStore) Ready(context.Context) error { return nil }
