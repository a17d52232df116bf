package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"
)

// profileFlag is the hidden flag that keeps pprof profiles of a run in a
// directory, for bench/soak. It writes files only; it never opens a port.
const profileFlag = "pprof-dir"

// heapEvery is how often a heap profile is taken during a profiled run, so
// that heap growth can be seen as a diff (go tool pprof -diff_base).
const heapEvery = time.Minute

// profiler writes a run's profiles to dir: cpu.pprof for the whole run,
// heap-MMM.pprof at every heapEvery (MMM the minute), and heap.pprof,
// allocs.pprof, block.pprof, mutex.pprof and goroutine.pprof at the end.
type profiler struct {
	dir     string
	cpu     *os.File
	stop    chan struct{}
	stopped sync.WaitGroup

	mu  sync.Mutex
	err error
}

// startProfiler starts profiling into dir (created if needed).
func startProfiler(dir string) (*profiler, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("--%s: %w", profileFlag, err)
	}
	f, err := os.Create(filepath.Join(dir, "cpu.pprof"))
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", profileFlag, err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--%s: %w", profileFlag, err)
	}
	// Sample every blocking event and contended lock: this is a debug run.
	runtime.SetBlockProfileRate(int(10 * time.Microsecond))
	runtime.SetMutexProfileFraction(1)
	p := &profiler{dir: dir, cpu: f, stop: make(chan struct{})}
	p.stopped.Add(1)
	go p.heapLoop()
	return p, nil
}

// heapLoop takes a heap profile every heapEvery until stopped.
func (p *profiler) heapLoop() {
	defer p.stopped.Done()
	t := time.NewTicker(heapEvery)
	defer t.Stop()
	for minute := 1; ; minute++ {
		select {
		case <-p.stop:
			return
		case <-t.C:
			runtime.GC() // an up-to-date heap profile
			p.fail(p.write(fmt.Sprintf("heap-%03d.pprof", minute), "heap"))
		}
	}
}

// write writes the named runtime profile to file name.
func (p *profiler) write(name, profile string) error {
	f, err := os.Create(filepath.Join(p.dir, name))
	if err != nil {
		return err
	}
	err = pprof.Lookup(profile).WriteTo(f, 0)
	return errors.Join(err, f.Close())
}

func (p *profiler) fail(err error) {
	if err == nil {
		return
	}
	p.mu.Lock()
	p.err = errors.Join(p.err, err)
	p.mu.Unlock()
}

// Close stops the CPU profile and writes the end-of-run profiles.
func (p *profiler) Close() error {
	close(p.stop)
	p.stopped.Wait()
	pprof.StopCPUProfile()
	p.fail(p.cpu.Close())
	runtime.GC()
	for _, name := range []string{"heap", "allocs", "block", "mutex", "goroutine"} {
		p.fail(p.write(name+".pprof", name))
	}
	runtime.SetBlockProfileRate(0)
	runtime.SetMutexProfileFraction(0)
	if p.err != nil {
		return fmt.Errorf("--%s: %w", profileFlag, p.err)
	}
	return nil
}
