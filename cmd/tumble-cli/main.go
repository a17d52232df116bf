// Command tumble-cli is Tumble's headless Mumble client, for scripts, bots and
// disposable VMs without a GUI. It connects over Tor (embedded, an existing
// SOCKS port, or explicitly off), joins a channel, sends text and voice from a
// WAV file (through the app's own send path, with voice activation, noise
// suppression and gain control on request), records every speaker to a WAV
// file, and prints events as text or JSON lines.
//
// Exit status is 0 after a clean run; otherwise a one-line error is printed
// to standard error and the status is non-zero.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "tumble-cli: %v\n", oneLine(err))
		os.Exit(1)
	}
}

// oneLine keeps an error message on a single line.
func oneLine(err error) string {
	b := []byte(err.Error())
	for i, c := range b {
		if c == '\n' || c == '\r' {
			b[i] = ' '
		}
	}
	return string(b)
}

// run is the whole program, testable without a process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	if len(args) > 0 && args[0] == "host" {
		return runHost(ctx, args[1:], os.Stdin, stdout, stderr)
	}
	o, err := parseOptions(args, stderr, os.Getenv)
	if err != nil {
		return err
	}
	if o.pprofDir != "" {
		p, err := startProfiler(o.pprofDir)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, p.Close()) }()
	}
	ev := &eventWriter{w: stdout, json: o.jsonOut, now: time.Now}
	s := &session{opts: o, ev: ev}
	return s.run(ctx)
}
