package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/atiende/atiende/handoff/console"
	"github.com/atiende/atiende/store"
)

// cmdAgent manages the console's accounts: "agent add" reads the password from the first
// line of standard input, so that it stays out of the shell's history and process list.
func cmdAgent(ctx context.Context, cfg config, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		return usageError{`agent: usage: echo 'PASSWORD' | atiende agent add --username U --name "Nombre Apellido" [--role supervisor|editor]`}
	}
	fs := flags("agent add", stdout)
	username := fs.String("username", "", "the sign-in name")
	name := fs.String("name", "", "the name the citizen sees (first name) and the console shows")
	role := fs.String("role", "agent", "agent, supervisor (also the supervision page and reports) or editor (the reports only)")
	if _, err := parse(fs, args[1:]); err != nil {
		return err
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	a, err := console.AddAgent(ctx, db, *username, *name, *role, strings.TrimRight(line, "\r\n"))
	if errors.Is(err, store.ErrDuplicate) {
		return fmt.Errorf("agent %q already exists", *username)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "agent %s (%s, %s) added\n", a.Username, a.Name, a.Role)
	return nil
}
