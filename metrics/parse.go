package metrics

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"maps"
	"strconv"
	"strings"
)

// ErrSyntax is wrapped by the errors of Parse.
var ErrSyntax = errors.New("metrics: bad exposition format")

// Sample is one parsed sample line.
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// Scrape is a parsed scrape in the text exposition format.
type Scrape struct {
	Types   map[string]Type   // family name -> its # TYPE
	Help    map[string]string // family name -> its # HELP text, unescaped
	Samples []Sample          // in the order read
}

// Parse reads a scrape in the text exposition format (version 0.0.4):
// # HELP and # TYPE lines, other comments and blank lines skipped, and
// sample lines with optional labels and an optional timestamp. It is a
// checker for tests and tools, strict where a scraper would be: a
// malformed line, a second # TYPE for a family or a sample of a family
// typed as a histogram without the _bucket, _sum or _count suffix is an
// error wrapping ErrSyntax.
func Parse(r io.Reader) (*Scrape, error) {
	s := &Scrape{Types: make(map[string]Type), Help: make(map[string]string)}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		if err := s.parseLine(sc.Text()); err != nil {
			return nil, fmt.Errorf("%w: line %d: %w", ErrSyntax, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("metrics: read scrape: %w", err)
	}
	return s, nil
}

func (s *Scrape) parseLine(line string) error {
	line = strings.TrimSpace(line)
	switch {
	case line == "":
		return nil
	case strings.HasPrefix(line, "# HELP "):
		name, help, _ := strings.Cut(line[len("# HELP "):], " ")
		if !validName(name) {
			return fmt.Errorf("bad name %q", name)
		}
		s.Help[name] = strings.NewReplacer(`\\`, `\`, `\n`, "\n").Replace(help)
		return nil
	case strings.HasPrefix(line, "# TYPE "):
		name, typ, _ := strings.Cut(line[len("# TYPE "):], " ")
		if !validName(name) {
			return fmt.Errorf("bad name %q", name)
		}
		if _, dup := s.Types[name]; dup {
			return fmt.Errorf("second TYPE for %s", name)
		}
		switch t := Type(typ); t {
		case TypeCounter, TypeGauge, TypeHistogram, "summary", "untyped":
			s.Types[name] = t
		default:
			return fmt.Errorf("bad type %q", typ)
		}
		return nil
	case strings.HasPrefix(line, "#"):
		return nil
	}
	smp, err := parseSample(line)
	if err != nil {
		return err
	}
	if err := s.checkFamily(smp.Name); err != nil {
		return err
	}
	s.Samples = append(s.Samples, smp)
	return nil
}

// checkFamily refuses a bare sample of a histogram family.
func (s *Scrape) checkFamily(name string) error {
	if s.Types[name] == TypeHistogram {
		return fmt.Errorf("histogram %s sample without a suffix", name)
	}
	return nil
}

// parseSample parses `name{k="v",...} value [timestamp]`.
func parseSample(line string) (Sample, error) {
	smp := Sample{Labels: map[string]string{}}
	i := strings.IndexAny(line, "{ ")
	if i < 0 {
		return smp, fmt.Errorf("no value in %q", line)
	}
	smp.Name = line[:i]
	if !validName(smp.Name) {
		return smp, fmt.Errorf("bad name %q", smp.Name)
	}
	rest := line[i:]
	if rest[0] == '{' {
		var err error
		if rest, err = parseLabels(rest[1:], smp.Labels); err != nil {
			return smp, err
		}
	}
	fields := strings.Fields(rest)
	if len(fields) != 1 && len(fields) != 2 {
		return smp, fmt.Errorf("want a value and an optional timestamp, got %q", rest)
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return smp, fmt.Errorf("bad value %q", fields[0])
	}
	if len(fields) == 2 {
		if _, err := strconv.ParseInt(fields[1], 10, 64); err != nil {
			return smp, fmt.Errorf("bad timestamp %q", fields[1])
		}
	}
	smp.Value = v
	return smp, nil
}

// parseLabels parses the labels after '{' into into and returns what
// follows the closing '}'.
func parseLabels(s string, into map[string]string) (string, error) {
	for {
		s = strings.TrimLeft(s, " ")
		if strings.HasPrefix(s, "}") {
			return s[1:], nil
		}
		eq := strings.IndexByte(s, '=')
		if eq < 0 || len(s) < eq+2 || s[eq+1] != '"' {
			return "", fmt.Errorf("bad label in %q", s)
		}
		name := strings.TrimSpace(s[:eq])
		if !validName(name) {
			return "", fmt.Errorf("bad label name %q", name)
		}
		val, rest, err := unquote(s[eq+2:])
		if err != nil {
			return "", err
		}
		if _, dup := into[name]; dup {
			return "", fmt.Errorf("label %s twice", name)
		}
		into[name] = val
		s = strings.TrimLeft(rest, " ")
		if strings.HasPrefix(s, ",") {
			s = s[1:]
		} else if !strings.HasPrefix(s, "}") {
			return "", fmt.Errorf("want , or } in %q", s)
		}
	}
}

// unquote reads a label value up to its closing quote and returns it
// unescaped and what follows the quote.
func unquote(s string) (string, string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), s[i+1:], nil
		case '\\':
			if i+1 == len(s) {
				return "", "", errors.New("label value ends in a backslash")
			}
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case '\\', '"':
				b.WriteByte(s[i])
			default:
				return "", "", fmt.Errorf("bad escape \\%c", s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", "", errors.New("label value without a closing quote")
}

// validName reports whether s is a metric or label name:
// [a-zA-Z_:][a-zA-Z0-9_:]*.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9'
		if !ok {
			return false
		}
	}
	return true
}

// Value returns the value of the sample name whose labels are exactly
// the given name, value pairs, and whether there is one.
func (s *Scrape) Value(name string, labels ...string) (float64, bool) {
	want := make(map[string]string, len(labels)/2)
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, smp := range s.Samples {
		if smp.Name == name && maps.Equal(smp.Labels, want) {
			return smp.Value, true
		}
	}
	return 0, false
}

// Family returns the samples of family name (for a histogram, those of
// its _bucket, _sum and _count series).
func (s *Scrape) Family(name string) []Sample {
	var out []Sample
	for _, smp := range s.Samples {
		base := smp.Name
		if s.Types[name] == TypeHistogram {
			for _, suf := range []string{"_bucket", "_sum", "_count"} {
				if b, ok := strings.CutSuffix(smp.Name, suf); ok {
					base = b
					break
				}
			}
		}
		if base == name {
			out = append(out, smp)
		}
	}
	return out
}
