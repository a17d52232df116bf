package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
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
// heap-MMM.pprof at every heapEvery (MMM the minute), memory.tsv (the
// process's RSS next to the Go runtime's memory classes), and heap.pprof,
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

// heapLoop takes a heap profile every heapEvery and writes a line of
// memory.tsv every memoryEvery and when stopped.
func (p *profiler) heapLoop() {
	defer p.stopped.Done()
	f, err := os.Create(filepath.Join(p.dir, "memory.tsv"))
	if err != nil {
		p.fail(err)
		return
	}
	defer func() { p.fail(f.Close()) }()
	m := newMemoryTable()
	p.fail(m.header(f))
	start := time.Now()
	t := time.NewTicker(memoryEvery)
	defer t.Stop()
	next := start.Add(heapEvery)
	for minute := 1; ; {
		select {
		case <-p.stop:
			p.fail(m.line(f, time.Since(start))) // the end of the run
			return
		case now := <-t.C:
			p.fail(m.line(f, now.Sub(start)))
			if now.Before(next) {
				continue
			}
			runtime.GC() // an up-to-date heap profile
			p.fail(p.write(fmt.Sprintf("heap-%03d.pprof", minute), "heap"))
			minute++
			next = next.Add(heapEvery)
		}
	}
}

// memoryEvery is how often memory.tsv gets a line.
const memoryEvery = 10 * time.Second

// memoryTable writes memory.tsv: the process's resident memory from
// /proc/self/status next to the Go runtime's own accounting
// (runtime/metrics /memory/classes/...), in KB, so that growth of the RSS
// can be told apart: heap objects, free heap not yet returned, stacks,
// runtime metadata, profiling buckets, or memory the Go runtime does not
// know about (cgo: libopus, libspeexdsp, the C library's malloc).
type memoryTable struct {
	samples []metrics.Sample
}

func newMemoryTable() *memoryTable {
	var m memoryTable
	for _, d := range metrics.All() {
		if strings.HasPrefix(d.Name, "/memory/classes/") && d.Kind == metrics.KindUint64 {
			m.samples = append(m.samples, metrics.Sample{Name: d.Name})
		}
	}
	return &m
}

func (m *memoryTable) header(w io.Writer) error {
	cols := []string{"seconds", "VmRSS", "RssAnon", "RssFile"}
	for _, s := range m.samples {
		cols = append(cols, strings.TrimSuffix(strings.TrimPrefix(s.Name, "/memory/classes/"), ":bytes"))
	}
	_, err := fmt.Fprintln(w, strings.Join(cols, "\t"))
	return err
}

func (m *memoryTable) line(w io.Writer, at time.Duration) error {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return err
	}
	cols := []string{strconv.Itoa(int(at.Seconds()))}
	for _, key := range []string{"VmRSS:", "RssAnon:", "RssFile:"} {
		v := "-"
		for _, l := range strings.Split(string(status), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == key {
				v = f[1]
			}
		}
		cols = append(cols, v)
	}
	metrics.Read(m.samples)
	for _, s := range m.samples {
		cols = append(cols, strconv.FormatUint(s.Value.Uint64()/1024, 10))
	}
	_, err = fmt.Fprintln(w, strings.Join(cols, "\t"))
	return err
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
