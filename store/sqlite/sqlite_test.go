package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/atiende/atiende"
	"github.com/atiende/atiende/store"
	"github.com/atiende/atiende/store/sqlite"
	"github.com/atiende/atiende/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Exercise(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "atiende.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestMigrateTwiceAndReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "atiende.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateConversation(ctx, &atiende.Conversation{ID: "c1", Channel: "sms", Address: "+56911112222"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	s.Close()
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := s.Conversation(ctx, "c1")
	if err != nil || c.Address != "+56911112222" {
		t.Fatalf("after reopen: %+v, %v", c, err)
	}
}
