package sqlite

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"
	"reflect"
	"sync"

	sqlite3 "modernc.org/sqlite"
)

// The driver prepares every statement anew: parsing SQL text was about a quarter of the
// server's CPU under load (docs/performance.md), for the store's queries and River's alike.
// cachingConnector wraps the driver's connections with a cache of prepared statements, keyed
// by their text: a query or exec run again reuses its statement (SQLite re-prepares it by
// itself when the schema changes). A statement whose rows are still open is busy: the same
// text run meanwhile is prepared apart, as before.

// stmtCacheSize bounds the statements kept per connection; River's batch queries vary their
// text with the batch size, and the least recently used are finalized past this.
const stmtCacheSize = 256

type cachingConnector struct {
	dsn    string
	driver driver.Driver // the driver registered as "sqlite"
}

func (c cachingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.driver.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return newCachingConn(conn)
}

func (c cachingConnector) Driver() driver.Driver { return c.driver }

// innerConn is what the wrapper needs of the driver's connection.
type innerConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.SessionResetter
	driver.Validator
	driver.Pinger
}

type cachingConn struct {
	inner innerConn
	mu    sync.Mutex
	lru   *list.List // of *cachedStmt, the most recently used first
	byKey map[string]*list.Element
}

type cachedStmt struct {
	query string
	stmt  driver.Stmt
	busy  bool // rows of it are open
}

func newCachingConn(c driver.Conn) (driver.Conn, error) {
	inner, ok := c.(innerConn)
	if !ok {
		c.Close()
		return nil, errors.New("sqlite: the driver's connection lacks the interfaces the statement cache needs")
	}
	return &cachingConn{inner: inner, lru: list.New(), byKey: map[string]*list.Element{}}, nil
}

var (
	_ driver.Conn               = (*cachingConn)(nil)
	_ driver.ConnBeginTx        = (*cachingConn)(nil)
	_ driver.ConnPrepareContext = (*cachingConn)(nil)
	_ driver.ExecerContext      = (*cachingConn)(nil)
	_ driver.QueryerContext     = (*cachingConn)(nil)
	_ driver.SessionResetter    = (*cachingConn)(nil)
	_ driver.Validator          = (*cachingConn)(nil)
	_ driver.Pinger             = (*cachingConn)(nil)
)

func (c *cachingConn) Prepare(query string) (driver.Stmt, error) { return c.inner.Prepare(query) }
func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.inner.PrepareContext(ctx, query)
}
func (c *cachingConn) Begin() (driver.Tx, error) { //nolint:staticcheck // driver.Conn requires it
	return c.inner.BeginTx(context.Background(), driver.TxOptions{})
}
func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.inner.BeginTx(ctx, opts)
}
func (c *cachingConn) ResetSession(ctx context.Context) error { return c.inner.ResetSession(ctx) }
func (c *cachingConn) IsValid() bool                          { return c.inner.IsValid() }
func (c *cachingConn) Ping(ctx context.Context) error         { return c.inner.Ping(ctx) }

// Close finalizes the cached statements, then closes the connection.
func (c *cachingConn) Close() error {
	c.mu.Lock()
	for e := c.lru.Front(); e != nil; e = e.Next() {
		e.Value.(*cachedStmt).stmt.Close()
	}
	c.lru.Init()
	clear(c.byKey)
	c.mu.Unlock()
	return c.inner.Close()
}

// take returns the cached statement of query, marked busy, preparing and caching it if
// needed; nil when it is busy (the caller then runs the query uncached).
func (c *cachingConn) take(ctx context.Context, query string) (*cachedStmt, error) {
	c.mu.Lock()
	if e, ok := c.byKey[query]; ok {
		cs := e.Value.(*cachedStmt)
		if cs.busy {
			c.mu.Unlock()
			return nil, nil
		}
		cs.busy = true
		c.lru.MoveToFront(e)
		c.mu.Unlock()
		return cs, nil
	}
	c.mu.Unlock()
	st, err := c.inner.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if _, ok := st.(driver.StmtQueryContext); !ok {
		st.Close()
		return nil, nil
	}
	if _, ok := st.(driver.StmtExecContext); !ok {
		st.Close()
		return nil, nil
	}
	cs := &cachedStmt{query: query, stmt: st, busy: true}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byKey[query] = c.lru.PushFront(cs)
	for e := c.lru.Back(); c.lru.Len() > stmtCacheSize && e != nil; {
		prev := e.Prev()
		if old := e.Value.(*cachedStmt); !old.busy {
			c.lru.Remove(e)
			delete(c.byKey, old.query)
			old.stmt.Close()
		}
		e = prev
	}
	return cs, nil
}

// give marks the statement free again; a failed one is dropped from the cache.
func (c *cachingConn) give(cs *cachedStmt, failed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cs.busy = false
	if !failed {
		return
	}
	if e, ok := c.byKey[cs.query]; ok && e.Value == cs {
		c.lru.Remove(e)
		delete(c.byKey, cs.query)
		cs.stmt.Close()
	}
}

// broken reports an error after which the statement should not be reused: anything but
// a constraint failure or a context ended, which leave the statement sound.
func broken(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var se *sqlite3.Error
	return !errors.As(err, &se) || se.Code()&0xff != 19 // SQLITE_CONSTRAINT
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, err := c.take(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.inner.ExecContext(ctx, query, args)
	}
	res, err := cs.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
	c.give(cs, broken(err))
	return res, err
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.take(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.inner.QueryContext(ctx, query, args)
	}
	rows, err := cs.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		c.give(cs, broken(err))
		return nil, err
	}
	return &cachedRows{Rows: rows, c: c, cs: cs}, nil
}

// cachedRows gives its statement back when closed, and passes on the column types.
type cachedRows struct {
	driver.Rows
	c      *cachingConn
	cs     *cachedStmt
	closed bool
}

func (r *cachedRows) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	err := r.Rows.Close()
	r.c.give(r.cs, err != nil)
	return err
}

func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

func (r *cachedRows) ColumnTypeNullable(i int) (nullable, ok bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return t.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *cachedRows) ColumnTypeLength(i int) (int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return t.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *cachedRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return t.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}
