package tornet

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// This file holds the part of Tor's control protocol (control-spec.txt) the
// package needs: authentication, GETINFO, SETEVENTS, ADD_ONION,
// ONION_CLIENT_AUTH_ADD, with asynchronous events delivered to subscribers.

// A controlReply is one reply of the control protocol: its status code and
// its lines without the status and separator. A data line ("250+key=")
// carries its data block after a newline: "key=\ndata...".
type controlReply struct {
	status int
	lines  []string
}

// A controlConn is an authenticated control-port connection. Commands are
// serialized; events go to the channels registered with subscribe.
type controlConn struct {
	conn    net.Conn
	mu      sync.Mutex // held from sending a command until its reply is read
	replies chan controlReply
	done    chan struct{} // closed when the reader stops
	readErr error         // why the reader stopped, valid after done

	subMu sync.Mutex
	subs  map[chan string]struct{}
}

// eventBuffer bounds the events queued for one subscriber; further events
// are dropped (the package subscribes only to rare HS_DESC events).
const eventBuffer = 1024

// dialControl connects to the control port at addr (a loopback address) and
// authenticates with password.
func dialControl(ctx context.Context, addr, password string) (*controlConn, error) {
	if err := checkLoopback(addr); err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	c := &controlConn{
		conn:    conn,
		replies: make(chan controlReply, 1),
		done:    make(chan struct{}),
		subs:    make(map[chan string]struct{}),
	}
	go c.readLoop()
	if _, err := c.command(ctx, "AUTHENTICATE "+quoteControl(password)); err != nil {
		c.Close()
		return nil, fmt.Errorf("control %s: %w", addr, err)
	}
	return c, nil
}

// Close closes the connection.
func (c *controlConn) Close() error {
	err := c.conn.Close()
	<-c.done
	return err
}

// command sends line and returns its reply. A reply whose status is not 2xx
// is an error. If ctx ends first, the reply is still read in the background,
// so that it is not taken for the reply to the next command.
func (c *controlConn) command(ctx context.Context, line string) (controlReply, error) {
	if strings.ContainsAny(line, "\r\n") {
		return controlReply{}, errors.New("control: command contains a line break")
	}
	verb, _, _ := strings.Cut(line, " ")
	c.mu.Lock()
	if _, err := c.conn.Write([]byte(line + "\r\n")); err != nil {
		c.mu.Unlock()
		return controlReply{}, fmt.Errorf("control %s: %w", verb, err)
	}
	select {
	case r := <-c.replies:
		c.mu.Unlock()
		if r.status/100 != 2 {
			return r, fmt.Errorf("control %s: %d %s", verb, r.status, strings.Join(r.lines, "; "))
		}
		return r, nil
	case <-c.done:
		c.mu.Unlock()
		return controlReply{}, fmt.Errorf("control %s: connection closed: %w", verb, c.readErr)
	case <-ctx.Done():
		go func() {
			select {
			case <-c.replies:
			case <-c.done:
			}
			c.mu.Unlock()
		}()
		return controlReply{}, fmt.Errorf("control %s: %w", verb, ctx.Err())
	}
}

// getInfo returns the value of GETINFO key.
func (c *controlConn) getInfo(ctx context.Context, key string) (string, error) {
	r, err := c.command(ctx, "GETINFO "+key)
	if err != nil {
		return "", err
	}
	for _, l := range r.lines {
		if v, ok := strings.CutPrefix(l, key+"="); ok {
			return strings.TrimPrefix(v, "\n"), nil
		}
	}
	return "", fmt.Errorf("control GETINFO %s: no value in reply %q", key, r.lines)
}

// subscribe returns a channel that receives the first line of every
// asynchronous event ("HS_DESC UPLOADED ...") until unsubscribe.
func (c *controlConn) subscribe() chan string {
	ch := make(chan string, eventBuffer)
	c.subMu.Lock()
	c.subs[ch] = struct{}{}
	c.subMu.Unlock()
	return ch
}

func (c *controlConn) unsubscribe(ch chan string) {
	c.subMu.Lock()
	delete(c.subs, ch)
	c.subMu.Unlock()
}

// readLoop reads replies and events until the connection fails.
func (c *controlConn) readLoop() {
	defer close(c.done)
	br := bufio.NewReader(c.conn)
	for {
		r, err := readReply(br)
		if err != nil {
			c.readErr = err
			return
		}
		if r.status == 650 {
			c.subMu.Lock()
			for ch := range c.subs {
				select {
				case ch <- r.lines[0]:
				default:
				}
			}
			c.subMu.Unlock()
			continue
		}
		select {
		case c.replies <- r:
		default:
			c.readErr = fmt.Errorf("unexpected reply %d %q", r.status, r.lines)
			c.conn.Close()
			return
		}
	}
}

// maxReplyLines bounds one reply, which tor keeps far smaller.
const maxReplyLines = 1 << 16

// readReply reads one reply or event.
func readReply(br *bufio.Reader) (controlReply, error) {
	var r controlReply
	for len(r.lines) < maxReplyLines {
		line, err := readLine(br)
		if err != nil {
			return r, err
		}
		if len(line) < 4 {
			return r, fmt.Errorf("malformed line %q", line)
		}
		status, err := strconv.Atoi(line[:3])
		if err != nil || status < 100 || status > 999 {
			return r, fmt.Errorf("malformed status in line %q", line)
		}
		if r.lines != nil && status != r.status {
			return r, fmt.Errorf("status changed within a reply: %q", line)
		}
		r.status = status
		text := line[4:]
		switch line[3] {
		case ' ':
			r.lines = append(r.lines, text)
			return r, nil
		case '-':
			r.lines = append(r.lines, text)
		case '+':
			var data strings.Builder
			for {
				dl, err := readLine(br)
				if err != nil {
					return r, err
				}
				if dl == "." {
					break
				}
				if data.Len() > 0 {
					data.WriteByte('\n')
				}
				data.WriteString(strings.TrimPrefix(dl, "."))
			}
			r.lines = append(r.lines, text+"\n"+data.String())
		default:
			return r, fmt.Errorf("malformed separator in line %q", line)
		}
	}
	return r, errors.New("reply too long")
}

// maxLine bounds one line of the control protocol.
const maxLine = 1 << 20

func readLine(br *bufio.Reader) (string, error) {
	var b []byte
	for {
		chunk, isPrefix, err := br.ReadLine()
		if err != nil {
			return "", err
		}
		b = append(b, chunk...)
		if len(b) > maxLine {
			return "", errors.New("line too long")
		}
		if !isPrefix {
			return string(b), nil
		}
	}
}

// quoteControl returns s as a control-protocol QuotedString.
func quoteControl(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// waitBootstrapped polls the tor at c until it reports bootstrap progress
// 100 or ctx ends.
func waitBootstrapped(ctx context.Context, c *controlConn) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	last := ""
	for {
		v, err := c.getInfo(ctx, "status/bootstrap-phase")
		if err != nil {
			return err
		}
		if strings.Contains(v, "PROGRESS=100 ") {
			return nil
		}
		last = v
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for bootstrap (last: %s): %w", last, ctx.Err())
		case <-tick.C:
		}
	}
}
