package app

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tumble-voip/tumble/tor/atomicfile"
)

// killChildEnv tells a re-executed test binary to run as the writer child of
// TestAtomicWriteSurvivesKill, writing into the directory it names.
const killChildEnv = "TUMBLE_APP_KILLTEST_DIR"

const (
	killFillers   = 30 // bookmarks besides the generation one, for file size
	killGenLevels = 48 // channel levels that all carry the generation
	// At least killMin kills; more (up to killMax) until killMidWrite of
	// them landed inside a write, so the test always exercises that case.
	killMin      = 20
	killMax      = 100
	killMidWrite = 3
)

// genLevel is one channel level of the generation bookmark; every level of
// a complete version carries the same generation.
func genLevel(gen, i int) string {
	return fmt.Sprintf("gen-%d-level-%d-%s", gen, i, strings.Repeat("x", 200))
}

// generationOf returns the generation a store holds, checking that the
// version is complete: the right number of bookmarks and every level of the
// generation bookmark from the same write.
func generationOf(s *BookmarkStore) (int, error) {
	list := s.List()
	if len(list) != killFillers+1 {
		return 0, fmt.Errorf("%d bookmarks, want %d", len(list), killFillers+1)
	}
	ch := list[0].Channel
	if len(ch) != killGenLevels {
		return 0, fmt.Errorf("generation bookmark has %d levels, want %d", len(ch), killGenLevels)
	}
	var gen int
	if _, err := fmt.Sscanf(ch[0], "gen-%d-", &gen); err != nil {
		return 0, fmt.Errorf("level 0 %q: %v", ch[0][:20], err)
	}
	for i, l := range ch {
		if l != genLevel(gen, i) {
			return 0, fmt.Errorf("level %d is from another write than level 0 (gen %d)", i, gen)
		}
	}
	return gen, nil
}

// TestAtomicWriteKillChild is the writer process of
// TestAtomicWriteSurvivesKill; it only runs when re-executed by it.
func TestAtomicWriteKillChild(t *testing.T) {
	dir := os.Getenv(killChildEnv)
	if dir == "" {
		t.Skip("runs only as the child process of TestAtomicWriteSurvivesKill")
	}
	st, err := NewDirStorage(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := OpenBookmarkStore(st)
	if err != nil {
		t.Fatal(err)
	}
	gen, err := generationOf(s)
	if err != nil {
		t.Fatal(err)
	}
	id := s.List()[0].ID
	fmt.Println("ready")
	for {
		gen++
		if _, err := s.Modify(id, func(b *Bookmark) error {
			for i := range b.Channel {
				b.Channel[i] = genLevel(gen, i)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		// Report progress so the parent knows writes are happening.
		fmt.Println(gen)
	}
}

// TestAtomicWriteSurvivesKill re-executes the test binary as a child that
// rewrites the bookmark file in a loop and SIGKILLs it at random moments.
// After every kill the file must load and hold one complete version, the
// same as or later than the one seen after the previous kill.
func TestAtomicWriteSurvivesKill(t *testing.T) {
	if os.Getenv(killChildEnv) != "" {
		t.Skip("inside the child")
	}
	dir := t.TempDir()
	s, st := openDirStore(t, dir)
	gb := newTestBookmark(t, "gen.example", "u")
	for i := 0; i < killGenLevels; i++ {
		gb.Channel = append(gb.Channel, genLevel(0, i))
	}
	if _, err := s.Add(gb); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < killFillers; i++ {
		b := newTestBookmark(t, fmt.Sprintf("filler%d.example", i), "u")
		if _, err := s.Add(b); err != nil {
			t.Fatal(err)
		}
	}
	fi, _ := os.Stat(st.Path(BookmarksFile))
	t.Logf("bookmark file: %d bytes", fi.Size())

	lastGen, midWrite, writesSeen := 0, 0, 0
	start := time.Now()
	kills := 0
	for k := 0; k < killMax && (k < killMin || midWrite < killMidWrite); k++ {
		kills++
		cmd := exec.Command(os.Args[0], "-test.run=^TestAtomicWriteKillChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), killChildEnv+"="+dir)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		select {
		case l, ok := <-lines:
			if !ok || l != "ready" {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("kill %d: child did not get ready (first line %q)", k, l)
			}
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("kill %d: child not ready after 30s", k)
		}
		// Wait until it completed a first write, so it is inside its write
		// loop, let it write for a random while, then kill it without
		// warning.
		select {
		case <-lines:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("kill %d: child completed no write in 30s", k)
		}
		time.Sleep(time.Duration(rand.IntN(30)) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		werr := cmd.Wait()
		if ee, ok := werr.(*exec.ExitError); !ok || ee.ProcessState.Success() || ee.ProcessState.ExitCode() != -1 {
			t.Fatalf("kill %d: child ended with %v, want killed by a signal", k, werr)
		}
		childMax := 0
		for l := range lines {
			if n, err := strconv.Atoi(l); err == nil && n > childMax {
				childMax = n
			}
		}
		writesSeen = max(writesSeen, childMax)
		// A temporary file left over means the kill landed inside a write.
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if atomicfile.IsTemp(e.Name()) {
				midWrite++
				break
			}
		}
		s2, err := OpenBookmarkStore(st)
		if err != nil {
			t.Fatalf("kill %d: store does not load: %v", k, err)
		}
		gen, err := generationOf(s2)
		if err != nil {
			t.Fatalf("kill %d: incomplete version on disk: %v", k, err)
		}
		if gen < lastGen {
			t.Fatalf("kill %d: generation went back from %d to %d", k, lastGen, gen)
		}
		// A save the child saw complete is on disk.
		if gen < childMax {
			t.Fatalf("kill %d: disk holds generation %d but the child had completed %d", k, gen, childMax)
		}
		lastGen = gen
	}
	t.Logf("%d kills in %v: %d landed inside a write (temporary file left), last generation on disk %d, highest reported %d",
		kills, time.Since(start).Round(time.Millisecond), midWrite, lastGen, writesSeen)
	if lastGen == 0 || midWrite == 0 {
		t.Fatal("no kill interrupted a write; the test exercised nothing")
	}
	// Reopening the storage clears the leftovers.
	if _, err := NewDirStorage(dir); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if atomicfile.IsTemp(e.Name()) {
			t.Errorf("temporary file %s not cleaned up", e.Name())
		}
	}
}
