package tornet

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// relayKeys creates a relay's identity keys in nd.dir/keys (tor
// --list-fingerprint) and returns its fingerprint, 40 hex digits.
func (n *Network) relayKeys(ctx context.Context, nd *node) (string, error) {
	// The placeholder DirAuthority keeps this tor, which only creates keys,
	// away from the real network's authorities.
	list := exec.CommandContext(ctx, n.tor,
		"--defaults-torrc", n.emptyTorrc, "-f", n.emptyTorrc, "--list-fingerprint",
		"--DataDirectory", nd.dir, "--Nickname", nd.name, "--ORPort", "1",
		"--DirAuthority", "placeholder 127.0.0.1:1 ffffffffffffffffffffffffffffffffffffffff")
	var out bytes.Buffer
	list.Stdout, list.Stderr = &out, &out
	if err := runChild(list); err != nil {
		return "", fmt.Errorf("%s --list-fingerprint: %w: %s", n.tor, err, tail(out.String(), 5))
	}
	fp, err := os.ReadFile(filepath.Join(nd.dir, "fingerprint"))
	if err != nil {
		return "", fmt.Errorf("%s --list-fingerprint: %w", n.tor, err)
	}
	name, fingerprint, _ := strings.Cut(strings.TrimSpace(string(fp)), " ")
	if name != nd.name || !isFingerprint(fingerprint) {
		return "", fmt.Errorf("%s --list-fingerprint: unexpected fingerprint file %q", n.tor, fp)
	}
	return fingerprint, nil
}

// authorityCert creates a directory authority's v3 identity key, signing
// key and certificate in nd.dir/keys (tor-gencert) and returns the v3
// identity fingerprint, 40 hex digits.
func (n *Network) authorityCert(ctx context.Context, nd *node) (string, error) {
	keys := filepath.Join(nd.dir, "keys")
	if err := os.MkdirAll(keys, 0o700); err != nil {
		return "", err
	}
	cert := filepath.Join(keys, "authority_certificate")
	gencert := exec.CommandContext(ctx, n.gencert,
		"--create-identity-key", "--passphrase-fd", "0", "-m", "12",
		"-i", filepath.Join(keys, "authority_identity_key"),
		"-s", filepath.Join(keys, "authority_signing_key"),
		"-c", cert)
	gencert.Stdin = strings.NewReader("\n") // empty passphrase
	var out bytes.Buffer
	gencert.Stdout, gencert.Stderr = &out, &out
	if err := runChild(gencert); err != nil {
		return "", fmt.Errorf("%s: %w: %s", n.gencert, err, bytes.TrimSpace(out.Bytes()))
	}
	text, err := os.ReadFile(cert)
	if err != nil {
		return "", err
	}
	for l := range strings.Lines(string(text)) {
		if v, ok := strings.CutPrefix(l, "fingerprint "); ok && isFingerprint(strings.TrimSpace(v)) {
			return strings.TrimSpace(v), nil
		}
	}
	return "", fmt.Errorf("%s: no fingerprint line in %s", n.gencert, cert)
}
