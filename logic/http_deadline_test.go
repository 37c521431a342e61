package logic

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestPushDeadlines(t *testing.T) {
	const timeout = 5 * time.Second
	d := newPushDeadlines(timeout)
	if d.tick != maxDeadlineTick {
		t.Fatalf("tick %v, want %v", d.tick, maxDeadlineTick)
	}
	t0 := time.Now()
	a := d.get(t0)
	tests := []struct {
		name  string
		at    time.Time
		share bool
	}{
		{"same instant", t0, true},
		{"within the tick", t0.Add(d.tick - time.Nanosecond), true},
		{"next tick", t0.Add(d.tick), false},
	}
	for _, tt := range tests {
		got := d.get(tt.at)
		if (got == a) != tt.share {
			t.Errorf("%s: shared %v, want %v", tt.name, got == a, tt.share)
		}
		dl, ok := got.Deadline()
		if !ok || dl.Before(tt.at.Add(timeout)) || dl.After(tt.at.Add(timeout+d.tick)) {
			t.Errorf("%s: deadline %v after the push, want %v to %v", tt.name, dl.Sub(tt.at), timeout, timeout+d.tick)
		}
	}
	last := d.get(t0.Add(d.tick))
	d.close()
	if !errors.Is(last.Err(), context.Canceled) {
		t.Errorf("current context after close: %v, want canceled", last.Err())
	}
	if err := d.get(t0.Add(time.Hour)).Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("context after close: %v, want canceled", err)
	}
}

func TestPushDeadlinesTick(t *testing.T) {
	tests := []struct {
		timeout, tick time.Duration
	}{
		{10 * time.Millisecond, minDeadlineTick},
		{time.Second, 20 * time.Millisecond},
		{time.Minute, maxDeadlineTick},
	}
	for _, tt := range tests {
		if got := newPushDeadlines(tt.timeout).tick; got != tt.tick {
			t.Errorf("timeout %v: tick %v, want %v", tt.timeout, got, tt.tick)
		}
	}
}

// TestWithPushTimeout: a context ending within the push timeout is used as
// is; one ending later, or never, gets a timeout of its own.
func TestWithPushTimeout(t *testing.T) {
	l := benchEnv(t, 0)
	timeout := l.cfg.PushTimeout
	shared := l.deadlines.get(time.Now())
	sooner, cancel := context.WithTimeout(context.Background(), timeout/2)
	defer cancel()
	later, cancel2 := context.WithTimeout(context.Background(), 10*timeout)
	defer cancel2()
	tests := []struct {
		name string
		ctx  context.Context
		same bool
	}{
		{"shared", shared, true},
		{"sooner", sooner, true},
		{"later", later, false},
		{"none", context.Background(), false},
	}
	for _, tt := range tests {
		start := time.Now()
		got, cancel := l.withPushTimeout(tt.ctx)
		if (got == tt.ctx) != tt.same {
			t.Errorf("%s: same context %v, want %v", tt.name, got == tt.ctx, tt.same)
		}
		dl, ok := got.Deadline()
		if !ok || dl.After(start.Add(timeout+l.deadlines.tick+time.Second)) {
			t.Errorf("%s: deadline %v (%v), want within the push timeout", tt.name, dl, ok)
		}
		cancel()
	}
}
