package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
)

// fakePTEnv names the file where the test binary, started by Tor as a
// pluggable transport (the tests put it on PATH as snowflake-client), logs
// what Tor gave it.
const fakePTEnv = "TUMBLE_TEST_FAKE_PT_LOG"

// fakePTRecord is what the fake transport logs: its command line, Tor's
// TOR_PT_* environment and the bridge arguments Tor sent in the SOCKS5
// handshake (username and password, control-spec "pt-spec" 3.5).
type fakePTRecord struct {
	Args       []string          `json:"args"`
	Env        map[string]string `json:"env"`
	BridgeArgs string            `json:"bridge_args,omitempty"`
	Target     string            `json:"target,omitempty"`
}

// runFakePT runs the test binary as a managed pluggable transport if Tor
// started it so; it reports whether it did. It speaks enough of the PT
// protocol for Tor to use it: version negotiation, one CMETHOD, and a SOCKS5
// server that records the bridge arguments and then refuses the connection.
func runFakePT() bool {
	logName := os.Getenv(fakePTEnv)
	if logName == "" || os.Getenv("TOR_PT_MANAGED_TRANSPORT_VER") == "" {
		return false
	}
	rec := fakePTRecord{Args: os.Args, Env: map[string]string{}}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "TOR_PT_") {
			rec.Env[k] = v
		}
	}
	save := func() {
		b, _ := json.Marshal(rec)
		os.WriteFile(logName, append(b, '\n'), 0o600)
	}
	save()
	if !strings.Contains(","+os.Getenv("TOR_PT_MANAGED_TRANSPORT_VER")+",", ",1,") {
		fmt.Println("VERSION-ERROR no-version")
		return true
	}
	fmt.Println("VERSION 1")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Printf("CMETHOD-ERROR snowflake %v\n", err)
		return true
	}
	for _, t := range strings.Split(os.Getenv("TOR_PT_CLIENT_TRANSPORTS"), ",") {
		fmt.Printf("CMETHOD %s socks5 %s\n", t, ln.Addr())
	}
	fmt.Println("CMETHODS DONE")
	go func() { // Tor closes stdin when the transport is to exit
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			return true
		}
		args, target, err := socks5Args(c)
		if err == nil {
			rec.BridgeArgs, rec.Target = args, target
			save()
			c.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0}) // connection refused
		}
		c.Close()
	}
}

// socks5Args reads a SOCKS5 greeting, username/password authentication and
// CONNECT request, and returns the credentials (Tor's bridge arguments) and
// the target.
func socks5Args(c net.Conn) (args, target string, err error) {
	br := bufio.NewReader(c)
	read := func(n int) []byte {
		b := make([]byte, n)
		if err == nil {
			_, err = io.ReadFull(br, b)
		}
		return b
	}
	h := read(2)
	read(int(h[1]))
	if err != nil || h[0] != 5 {
		return "", "", fmt.Errorf("not SOCKS5")
	}
	c.Write([]byte{5, 2}) // username/password
	a := read(2)
	user := read(int(a[1]))
	pl := read(1)
	pass := read(int(pl[0]))
	if err != nil {
		return "", "", err
	}
	c.Write([]byte{1, 0})
	args = string(user)
	if string(pass) != "\x00" {
		args += string(pass)
	}
	req := read(4)
	if err != nil {
		return "", "", err
	}
	switch req[3] {
	case 1:
		ip := read(4)
		p := read(2)
		target = fmt.Sprintf("%s:%d", net.IP(ip), int(p[0])<<8|int(p[1]))
	default:
		return args, "", nil
	}
	return args, target, err
}
