package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"time"
)

// profiler fetches a server's pprof profiles during a run (-server-pprof
// and -profile): a CPU profile over the run's push time, and heap
// allocation profiles before and after it (compare them with
// go tool pprof -sample_index=alloc_space -base before after).
type profiler struct {
	base  string // http://host:port/debug/pprof/
	dir   string
	wg    sync.WaitGroup
	errMu sync.Mutex // guards err
	err   error
}

// newProfiler returns nil unless both flags are set.
func newProfiler(o *options) (*profiler, error) {
	if o.serverPprof == "" || o.profileDir == "" {
		return nil, nil
	}
	if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
		return nil, err
	}
	return &profiler{base: "http://" + o.serverPprof + "/debug/pprof/", dir: o.profileDir}, nil
}

// begin saves the allocation profile and starts a CPU profile of secs
// seconds, named after name.
func (p *profiler) begin(ctx context.Context, name string, secs int) {
	if p == nil {
		return
	}
	p.fetch(ctx, "allocs", name+"-allocs-before.pprof")
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.fetch(ctx, fmt.Sprintf("profile?seconds=%d", max(secs, 1)), name+"-cpu.pprof")
	}()
}

// end waits for the CPU profile and saves the allocation profile again.
func (p *profiler) end(ctx context.Context, name string) error {
	if p == nil {
		return nil
	}
	p.wg.Wait()
	p.fetch(ctx, "allocs", name+"-allocs-after.pprof")
	p.errMu.Lock()
	defer p.errMu.Unlock()
	return p.err
}

// heap saves the server's heap profile (after a collection) as
// name-heap.pprof.
func (p *profiler) heap(ctx context.Context, name string) error {
	if p == nil {
		return nil
	}
	p.fetch(ctx, "heap?gc=1", name+"-heap.pprof")
	p.errMu.Lock()
	defer p.errMu.Unlock()
	return p.err
}

// fetch saves one profile; errors are kept for end.
func (p *profiler) fetch(ctx context.Context, what, file string) {
	err := p.get(ctx, p.base+what, filepath.Join(p.dir, file))
	if err != nil {
		p.errMu.Lock()
		if p.err == nil {
			p.err = fmt.Errorf("profile %s: %w", what, err)
		}
		p.errMu.Unlock()
	}
}

// get downloads url into path.
func (p *profiler) get(ctx context.Context, url, path string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// profileName names the profiles of one run.
func profileName(label, kind string, rate float64) string {
	r := "closed"
	if rate > 0 {
		r = strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.2f", rate), "0"), ".0")
	}
	return fmt.Sprintf("%s-%s-%s", label, kind, r)
}

// startSelfProfile starts profiling the generator's CPU into path; the
// returned function stops it.
func startSelfProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
