// Command atiende is the one binary of Atiende: the server, a terminal chat, one-turn
// questions, the evaluation harness and catalogue tools. Run "atiende help".
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(os.Stderr, "atiende:", err)
			os.Exit(2)
		}
		var ee exitError
		if errors.As(err, &ee) {
			fmt.Fprintln(os.Stderr, "atiende:", ee.err)
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "atiende:", err)
		os.Exit(1)
	}
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// exitError carries an exit status of its own.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }

const usage = `atiende — the ChileAtiende assistant

usage: atiende <command> [flags]

commands:
  serve      serve the web chat, the widget and the API (ATIENDE_ADDR, default :8080)
  chat       talk to the assistant on the terminal
  ask        run one turn: atiende ask [--channel web|sms|whatsapp] [--json] "texto"
  eval       run evaluation cases: atiende eval --cases FILE [--json]
  catalogue  validate, stats, import, synth: see "atiende catalogue"
  migrate    create or update the database schema
  report     the supervisors' and editors' report from the store: [--days N] [--low S] [--csv days|unanswered]
  retention  anonymise the conversations idle longer than ATIENDE_RETENTION_DAYS (serve does it hourly)
  load       drive simulated citizens at a running server: atiende load --target URL --rate R --duration D [--json]
  train      rebuild the learned models from the catalogue's questions and emergency bank: [--catalogue DIR] [--dev]
  agent      add --username U --name "N" [--role supervisor|editor]: a console account (password on stdin)
  help       this text

configuration comes from the environment; see README.md.
`

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{"no command"}
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	err = dispatch(ctx, cfg, args[0], args[1:], stdin, stdout, stderr)
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

func dispatch(ctx context.Context, cfg config, cmd string, rest []string, stdin io.Reader, stdout, stderr io.Writer) error {
	switch cmd {
	case "serve":
		return cmdServe(ctx, cfg, rest, stderr)
	case "chat":
		return cmdChat(ctx, cfg, rest, stdin, stdout)
	case "ask":
		return cmdAsk(ctx, cfg, rest, stdout)
	case "eval":
		return cmdEval(ctx, cfg, rest, stdout)
	case "catalogue", "catalog":
		return cmdCatalogue(cfg, rest, stdout, stderr)
	case "migrate":
		return cmdMigrate(ctx, cfg, stdout)
	case "retention":
		return cmdRetention(ctx, cfg, rest, stdout, stderr)
	case "report":
		return cmdReport(ctx, cfg, rest, stdout, stderr)
	case "load":
		return cmdLoad(ctx, cfg, rest, stdout, stderr)
	case "agent":
		return cmdAgent(ctx, cfg, rest, stdin, stdout)
	case "train":
		return cmdTrain(ctx, rest, stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}
