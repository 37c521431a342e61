package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrNoProc reports a process that /proc does not show.
var ErrNoProc = errors.New("bench: no such process")

// clockTicks is the unit of the CPU times in /proc/<pid>/stat (USER_HZ),
// 100 on every Linux platform Go supports.
const clockTicks = 100

// ProcSample is one reading of a process's memory and CPU time.
type ProcSample struct {
	Pid  int
	Name string        // comm, the executable's name
	At   time.Time     // when it was read
	RSS  int64         // resident set size in bytes (VmRSS)
	PSS  int64         // proportional set size in bytes (pages shared with other processes split among them); 0 when unreadable
	HWM  int64         // peak resident set size in bytes (VmHWM)
	CPU  time.Duration // user + system CPU time consumed so far
	FDs  int           // open file descriptors; -1 when unreadable
	Thrs int           // threads
}

// ReadProc reads process pid's sample from /proc.
func ReadProc(pid int) (ProcSample, error) {
	s := ProcSample{Pid: pid, At: time.Now(), FDs: -1}
	dir := "/proc/" + strconv.Itoa(pid)
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return s, fmt.Errorf("%w: %d: %v", ErrNoProc, pid, err)
	}
	for line := range bytes.Lines(status) {
		name, value, _ := bytes.Cut(line, []byte(":"))
		fields := strings.Fields(string(value))
		if len(fields) == 0 {
			continue
		}
		switch string(name) {
		case "Name":
			s.Name = fields[0]
		case "VmRSS":
			s.RSS = kbField(fields)
		case "VmHWM":
			s.HWM = kbField(fields)
		case "Threads":
			s.Thrs, _ = strconv.Atoi(fields[0])
		}
	}
	if s.CPU, err = readCPU(dir + "/stat"); err != nil {
		return s, err
	}
	s.PSS = readPSS(dir + "/smaps_rollup")
	if ents, err := os.ReadDir(dir + "/fd"); err == nil {
		s.FDs = len(ents)
	}
	return s, nil
}

// readPSS returns the Pss of a /proc/<pid>/smaps_rollup file in bytes, 0
// when it is unreadable (older kernels, other users' processes).
func readPSS(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for line := range bytes.Lines(b) {
		if value, ok := bytes.CutPrefix(line, []byte("Pss:")); ok {
			if fields := strings.Fields(string(value)); len(fields) > 0 {
				return kbField(fields)
			}
		}
	}
	return 0
}

// kbField parses "123 kB" into bytes.
func kbField(fields []string) int64 {
	n, _ := strconv.ParseInt(fields[0], 10, 64)
	return n << 10
}

// readCPU returns utime + stime from a /proc/<pid>/stat file.
func readCPU(path string) (time.Duration, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrNoProc, err)
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// count fields after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("bench: malformed %s", path)
	}
	f := strings.Fields(string(b[i+1:]))
	// After ')': state is field 3, utime field 14, stime field 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("bench: malformed %s", path)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bench: malformed %s", path)
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// FindProcs returns the pids of the processes whose name (comm, at most 15
// characters) or executable's base name equals name, this process excluded.
func FindProcs(name string) ([]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	self := os.Getpid()
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		comm, err := os.ReadFile("/proc/" + e.Name() + "/comm")
		if err != nil {
			continue
		}
		if strings.TrimSpace(string(comm)) == truncComm(name) || exeBase(pid) == name {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// truncComm returns name as the kernel shows it in comm (15 bytes).
func truncComm(name string) string {
	if len(name) > 15 {
		return name[:15]
	}
	return name
}

// exeBase returns the base name of process pid's executable, "" when
// unreadable.
func exeBase(pid int) string {
	p, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	if err != nil {
		return ""
	}
	return filepath.Base(p)
}

// CPUPercent returns the CPU used between two samples of one process as
// a percentage of one core.
func CPUPercent(before, after ProcSample) float64 {
	wall := after.At.Sub(before.At)
	if wall <= 0 {
		return 0
	}
	return 100 * float64(after.CPU-before.CPU) / float64(wall)
}
