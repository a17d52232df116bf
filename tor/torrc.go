package tor

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxTorrcSize bounds a torrc file read by ReadTorrc.
const maxTorrcSize = 1 << 20

// ReadTorrcFile reads a torrc file for Server.Torrc (tumble-cli --torrc
// FILE). See ReadTorrc.
func ReadTorrcFile(name string) ([]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("tor: torrc: %w", err)
	}
	defer f.Close()
	lines, err := readTorrc(f)
	if err != nil {
		return nil, fmt.Errorf("tor: torrc %s: %w", name, err)
	}
	return lines, nil
}

// ReadTorrc reads torrc text and returns its options, one per element,
// for Server.Torrc: comments and blank lines are dropped, lines continued
// with a trailing backslash are joined.
func ReadTorrc(r io.Reader) ([]string, error) {
	lines, err := readTorrc(r)
	if err != nil {
		return nil, fmt.Errorf("tor: torrc: %w", err)
	}
	return lines, nil
}

func readTorrc(r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(io.LimitReader(r, maxTorrcSize+1))
	sc.Buffer(make([]byte, 0, 4096), maxTorrcSize)
	var lines []string
	var cont strings.Builder
	size := 0
	for n := 1; sc.Scan(); n++ {
		size += len(sc.Bytes()) + 1
		if size > maxTorrcSize {
			return nil, fmt.Errorf("larger than %d bytes", maxTorrcSize)
		}
		line := strings.TrimRight(sc.Text(), " \t\r")
		if strings.ContainsRune(line, 0) {
			return nil, fmt.Errorf("line %d: contains a NUL byte", n)
		}
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			cont.WriteString(strings.TrimSuffix(line, `\`))
			continue
		}
		cont.WriteString(line)
		if opt := strings.TrimSpace(cont.String()); opt != "" {
			lines = append(lines, opt)
		}
		cont.Reset()
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if strings.TrimSpace(cont.String()) != "" {
		return nil, fmt.Errorf("last line ends in a continuation backslash")
	}
	return lines, nil
}
