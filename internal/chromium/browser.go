package chromium

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// ErrNotFound: no Chromium executable was found (see Lookup).
var ErrNotFound = errors.New("chromium: no chromium executable found")

// Defaults of Config.
const (
	DefaultStartTimeout = 30 * time.Second
	defaultStopTimeout  = 10 * time.Second
	stderrKeep          = 64 << 10 // bytes of the browser's stderr kept for errors
)

// executables are the names Lookup tries on $PATH, in order.
var executables = []string{"chromium", "chromium-browser"}

// Lookup returns the Chromium executable to run: $CHROMIUM when set, else
// the first of chromium and chromium-browser found on $PATH. The error
// wraps ErrNotFound.
func Lookup() (string, error) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("%w: $CHROMIUM=%q: %w", ErrNotFound, p, err)
		}
		return path, nil
	}
	for _, name := range executables {
		if path, err := exec.LookPath(name); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("%w on $PATH (tried %s; on Debian: apt-get install chromium)", ErrNotFound, strings.Join(executables, ", "))
}

// Config configures Start. The zero value is ready to use.
type Config struct {
	// Path is the browser executable; "" means Lookup's answer.
	Path string
	// Args are extra command-line flags, after the package's own.
	Args []string
	// StartTimeout bounds the start until the DevTools endpoint answers;
	// 0 means DefaultStartTimeout.
	StartTimeout time.Duration
}

// Browser is a running headless Chromium and the DevTools connection to
// it. Its methods are safe for concurrent use.
type Browser struct {
	cmd     *exec.Cmd
	dir     string        // profile directory, removed by Close
	stderr  *stderrLog    // the browser's standard error
	exited  chan struct{} // closed when cmd.Wait returned
	waitErr error         // cmd.Wait's result, read after exited
	cdp     *conn

	closeOnce sync.Once
	closeErr  error // Close's result, set once
}

// Start runs a headless Chromium with a fresh profile directory and
// connects to its DevTools endpoint. ctx bounds the start only. On error
// nothing is left running and the directory is removed.
func Start(ctx context.Context, cfg Config) (*Browser, error) {
	path := cfg.Path
	if path == "" {
		var err error
		if path, err = Lookup(); err != nil {
			return nil, err
		}
	}
	timeout := cfg.StartTimeout
	if timeout <= 0 {
		timeout = DefaultStartTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "chromium-profile-")
	if err != nil {
		return nil, fmt.Errorf("chromium: profile directory: %w", err)
	}
	b := &Browser{dir: dir, stderr: newStderrLog(), exited: make(chan struct{})}
	if err := b.start(ctx, path, cfg.Args); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// flags returns the command line flags of a headless test browser.
func flags(dir string) []string {
	f := []string{
		"--headless=new",
		"--remote-debugging-port=0",
		"--remote-debugging-address=127.0.0.1",
		"--user-data-dir=" + dir,
		"--no-first-run",
		"--no-default-browser-check",
		"--disable-gpu",
		"--disable-extensions",
		"--disable-background-networking",
		"--disable-component-update",
		"--disable-breakpad",
		"--disable-crash-reporter",
		"--disable-sync",
		"--disable-dev-shm-usage",
		"--disable-background-timer-throttling",
		"--disable-backgrounding-occluded-windows",
		"--disable-renderer-backgrounding",
		"--mute-audio",
	}
	if os.Geteuid() == 0 {
		f = append(f, "--no-sandbox") // Chromium refuses to run as root with its sandbox
	}
	return f
}

// start runs the process and connects to it.
func (b *Browser) start(ctx context.Context, path string, extra []string) error {
	args := append(flags(b.dir), extra...)
	args = append(args, "about:blank")
	b.cmd = exec.Command(path, args...)
	// The crash handler Chromium starts in a session of its own keeps its
	// database under $XDG_CONFIG_HOME: inside dir, killStrays finds it.
	b.cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(b.dir, "config"),
		"XDG_CACHE_HOME="+filepath.Join(b.dir, "cache"))
	b.cmd.Stdout = b.stderr
	b.cmd.Stderr = b.stderr
	b.cmd.WaitDelay = defaultStopTimeout
	setProcAttr(b.cmd)
	if err := b.cmd.Start(); err != nil {
		close(b.exited)
		return fmt.Errorf("chromium: start %s: %w", path, err)
	}
	go func() {
		b.waitErr = b.cmd.Wait()
		close(b.exited)
	}()
	var wsURL string
	select {
	case wsURL = <-b.stderr.url:
	case <-b.exited:
		return fmt.Errorf("chromium: exited before listening (%v): %s", b.waitErr, b.stderr.tail())
	case <-ctx.Done():
		return fmt.Errorf("chromium: no DevTools endpoint within the start timeout: %w; output: %s", ctx.Err(), b.stderr.tail())
	}
	c, err := dial(ctx, wsURL)
	if err != nil {
		return fmt.Errorf("chromium: connect to %s: %w", wsURL, err)
	}
	b.cdp = c
	return nil
}

// Output returns the end of the browser's standard output and error, for
// failure messages.
func (b *Browser) Output() string { return b.stderr.tail() }

// Close closes the DevTools connection, kills the browser's process group,
// waits for it to exit and removes its profile directory. It is safe to
// call more than once; later calls return the first call's result.
func (b *Browser) Close() error {
	b.closeOnce.Do(func() { b.closeErr = b.close() })
	return b.closeErr
}

// close is Close's body.
func (b *Browser) close() error {
	var errs []error
	if b.cdp != nil {
		b.cdp.close()
	}
	if b.cmd != nil && b.cmd.Process != nil {
		killGroup(b.cmd)
		killStrays(b.dir)
		select {
		case <-b.exited:
		case <-time.After(2 * defaultStopTimeout):
			errs = append(errs, fmt.Errorf("chromium: pid %d did not exit after SIGKILL", b.cmd.Process.Pid))
		}
	}
	if err := removeAll(b.dir); err != nil {
		errs = append(errs, fmt.Errorf("chromium: remove profile: %w", err))
	}
	return errors.Join(errs...)
}

// removeAll removes dir, retrying briefly: a dying browser may still write
// into it.
func removeAll(dir string) error {
	var err error
	for range 20 {
		if err = os.RemoveAll(dir); err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return err
}

// stderrLog keeps the tail of the browser's output and hands out the
// DevTools URL from its "DevTools listening on ws://..." line once.
type stderrLog struct {
	url chan string // receives the URL once; buffered

	mu    sync.Mutex // guards buf, line, found
	buf   []byte     // last stderrKeep bytes written
	line  []byte     // the current incomplete line
	found bool       // the URL was sent
}

// newStderrLog returns an empty log.
func newStderrLog() *stderrLog { return &stderrLog{url: make(chan string, 1)} }

// devtoolsPrefix starts the line that names the browser's endpoint.
const devtoolsPrefix = "DevTools listening on "

// Write records p and looks for the DevTools line.
func (s *stderrLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = append(s.buf, p...)
	if over := len(s.buf) - stderrKeep; over > 0 {
		s.buf = append(s.buf[:0], s.buf[over:]...)
	}
	if s.found {
		return len(p), nil
	}
	s.line = append(s.line, p...)
	for {
		i := bytes.IndexByte(s.line, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimSpace(string(s.line[:i]))
		s.line = s.line[i+1:]
		if u, ok := strings.CutPrefix(line, devtoolsPrefix); ok && strings.HasPrefix(u, "ws://") {
			s.found, s.line = true, nil
			s.url <- u
			break
		}
	}
	if len(s.line) > stderrKeep { // a runaway line without newline
		s.line = nil
	}
	return len(p), nil
}

// tail returns the kept output.
func (s *stderrLog) tail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.buf)
}
