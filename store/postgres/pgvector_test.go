package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"

	"github.com/atiende/atiende/store/postgres/pgtest"
)

// TestPgvectorWithHNSW checks what the retrieval in Postgres will stand on: the vector
// extension that scripts/ensure-pgvector.sh builds, an HNSW index, and pgvector-go's values
// through pgx. Without the extension it skips locally and fails under CI=true.
func TestPgvectorWithHNSW(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.VectorDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		"CREATE TABLE chunks (id int PRIMARY KEY, embedding vector(3))",
		"CREATE INDEX ON chunks USING hnsw (embedding vector_cosine_ops)",
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for id, v := range [][]float32{{1, 0, 0}, {0, 1, 0}, {0.7, 0.7, 0}} {
		if _, err := conn.Exec(ctx, "INSERT INTO chunks VALUES ($1, $2)", id, pgvector.NewVector(v)); err != nil {
			t.Fatal(err)
		}
	}
	var id int
	var got pgvector.Vector
	err = conn.QueryRow(ctx, "SELECT id, embedding FROM chunks ORDER BY embedding <=> $1 LIMIT 1", pgvector.NewVector([]float32{0.1, 0.9, 0})).Scan(&id, &got)
	if err != nil {
		t.Fatal(err)
	}
	if id != 1 || got.Slice()[1] != 1 {
		t.Errorf("nearest = %d %v, want 1 [0 1 0]", id, got.Slice())
	}
}
