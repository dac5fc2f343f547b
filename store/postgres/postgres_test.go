package postgres_test

import (
	"context"
	"testing"

	"github.com/atiende/atiende/store"
	"github.com/atiende/atiende/store/postgres"
	"github.com/atiende/atiende/store/postgres/pgtest"
	"github.com/atiende/atiende/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Exercise(t, func(t *testing.T) store.Store {
		db, err := postgres.Open(context.Background(), pgtest.Database(t))
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

func TestMigrateTwice(t *testing.T) {
	url := pgtest.Database(t)
	ctx := context.Background()
	db, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	db.Close()
	db, err = postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
}
