package tornet

import (
	"bufio"
	"compress/zlib"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

// consensusPath is where a directory authority's DirPort serves the current
// microdescriptor consensus, the flavour clients fetch.
const consensusPath = "/tor/status-vote/current/consensus-microdesc"

// maxConsensus bounds a consensus read from an authority.
const maxConsensus = 1 << 20

// runningRelays fetches the current microdescriptor consensus from the
// directory authority at dirAddr (a loopback "ip:port") and returns the
// nicknames of the relays it lists with the Running flag. An authority that
// has no consensus yet answers 404, reported as an error.
func runningRelays(ctx context.Context, client *http.Client, dirAddr string) ([]string, error) {
	if err := checkLoopback(dirAddr); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+dirAddr+consensusPath, nil)
	if err != nil {
		return nil, err
	}
	// Setting Accept-Encoding keeps net/http from asking for gzip, which tor
	// answers with deflate, which net/http does not decode.
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch consensus: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch consensus from %s: %s", dirAddr, resp.Status)
	}
	var body io.Reader = resp.Body
	switch enc := resp.Header.Get("Content-Encoding"); enc {
	case "", "identity":
	case "deflate":
		zr, err := zlib.NewReader(resp.Body)
		if err != nil {
			return nil, fmt.Errorf("fetch consensus from %s: %w", dirAddr, err)
		}
		defer zr.Close()
		body = zr
	default:
		return nil, fmt.Errorf("fetch consensus from %s: unexpected Content-Encoding %q", dirAddr, enc)
	}
	return parseRunning(io.LimitReader(body, maxConsensus))
}

// parseRunning returns the nicknames of the routers in a network-status
// document whose "s" line has the Running flag.
func parseRunning(r io.Reader) ([]string, error) {
	var names []string
	nick := ""
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "r":
			if len(f) < 2 {
				return nil, fmt.Errorf("consensus: malformed line %q", sc.Text())
			}
			nick = f[1]
		case "s":
			if nick != "" && slices.Contains(f[1:], "Running") {
				names = append(names, nick)
			}
			nick = ""
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("consensus: %w", err)
	}
	return names, nil
}

// newDirClient returns an HTTP client for authorities' DirPorts: no proxy
// from the environment, no connection reuse.
func newDirClient() *http.Client {
	return &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
}
