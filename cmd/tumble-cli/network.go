package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/tumble-voip/tumble/tor"
)

// network is how tumble-cli reaches the server: through Tor, or directly only
// when asked with --tor off.
type network struct {
	srv    *tor.Server
	dialer *tor.Dialer
	mode   string
}

// DialContext dials through the chosen network, isolated from every other
// server's circuits.
func (n *network) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return n.dialer.DialContext(ctx, network, addr)
}

// Describe names the mode for events.
func (n *network) Describe() string { return n.mode }

// Close stops an embedded Tor.
func (n *network) Close() error {
	err := n.srv.Close()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// newNetwork starts the --tor mode and waits until it can carry connections,
// printing Tor's bootstrap progress as "tor" events.
func newNetwork(ctx context.Context, o *options, ev *eventWriter) (*network, error) {
	mode, socksAddr, err := tor.ParseMode(o.tor)
	if err != nil {
		return nil, fmt.Errorf("--tor: %w", err)
	}
	srv := &tor.Server{
		Mode:      mode,
		SOCKSAddr: socksAddr,
		DataDir:   o.torDataDir,
		Amnesic:   o.amnesic,
		Creator:   embeddedTor(),

		UseBridges: len(o.bridges) > 0,
		Bridges:    o.bridges,
	}
	if o.torrc != "" {
		lines, err := tor.ReadTorrcFile(o.torrc)
		if err != nil {
			return nil, fmt.Errorf("--torrc: %w", err)
		}
		srv.Torrc = lines
		// The user named the file explicitly: a test network is allowed.
		srv.AllowTestingNetwork = true
	}
	n := &network{srv: srv}
	if err := srv.Start(ctx); err != nil {
		srv.Close()
		return nil, err
	}
	watch, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	endWatch := func() {
		stopWatch()
		<-watched
	}
	// Every tor event is printed before tor-ready or newNetwork's return.
	defer endWatch()
	go func() {
		defer close(watched)
		last := ""
		for st := range srv.Subscribe(watch) {
			key := fmt.Sprint(st.Progress, st.Hint, st.BridgeFailure)
			if key == last && st.Warning == "" {
				continue
			}
			last = key
			fields := []field{{"mode", st.Mode.String()}, {"progress", st.Progress}, {"summary", st.Summary}}
			if st.Warning != "" {
				fields = append(fields, field{"warning", st.Warning}, field{"reason", st.Reason})
			}
			if st.BridgeFailure != "" {
				fields = append(fields, field{"bridge_failure", st.BridgeFailure})
			}
			if st.Hint != "" {
				fields = append(fields, field{"hint", st.Hint})
			}
			ev.emit("tor", fields...)
		}
	}()
	start := time.Now()
	st, err := srv.Up(ctx)
	if err != nil {
		srv.Close()
		return nil, err
	}
	endWatch()
	n.mode = st.Mode.String()
	if !srv.IsProtected() {
		n.mode += " (UNPROTECTED)"
	}
	ev.emit("tor-ready", field{"mode", n.mode}, field{"seconds", time.Since(start).Seconds()})

	iso := tor.NewIsolation()
	if o.isolation != "" {
		if iso, err = tor.ParseIsolation(o.isolation); err != nil {
			srv.Close()
			return nil, fmt.Errorf("--isolation: %w", err)
		}
	}
	n.dialer = srv.Isolated(iso)

	if o.clientAuth != "" || o.clientAuthLine != "" {
		line := o.clientAuthLine
		if o.clientAuth != "" {
			b, err := os.ReadFile(o.clientAuth)
			if err != nil {
				srv.Close()
				return nil, fmt.Errorf("--client-auth-file: %w", err)
			}
			line = string(b)
		}
		k, err := tor.ParseClientAuthKey(strings.TrimSpace(line))
		if err != nil {
			srv.Close()
			return nil, fmt.Errorf("--client-auth-file %s: %w", o.clientAuth, err)
		}
		if err := srv.AddClientAuth(ctx, k); err != nil {
			srv.Close()
			return nil, fmt.Errorf("--client-auth-file: %w", err)
		}
	}
	return n, nil
}
