package postgres_test

import (
	"testing"

	"github.com/atiende/atiende/store/storetest"
)

func TestMigrationVersionsAreUnique(t *testing.T) {
	storetest.MigrationVersionsAreUnique(t, "migrations")
}
