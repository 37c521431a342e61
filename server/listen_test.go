package server

import (
	"net"
	"testing"
)

func TestAdvertise(t *testing.T) {
	host := hostname()
	tests := []struct {
		addr     string
		loopback bool
		want     string
	}{
		{"10.0.0.5:3109", false, "10.0.0.5:3109"},
		{"10.0.0.5:3109", true, "10.0.0.5:3109"},
		{"[::]:3109", true, "127.0.0.1:3109"},
		{"0.0.0.0:3109", false, net.JoinHostPort(host, "3109")},
		{"[::]:3109", false, net.JoinHostPort(host, "3109")},
	}
	for _, tt := range tests {
		a, err := net.ResolveTCPAddr("tcp", tt.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := advertise(a, tt.loopback); got != tt.want {
			t.Errorf("advertise(%s, %v) = %q, want %q", tt.addr, tt.loopback, got, tt.want)
		}
	}
	a, _ := net.ResolveTCPAddr("tcp", "127.0.0.1:3109")
	if got, want := defaultNodeID(a), net.JoinHostPort(host, "3109"); got != want {
		t.Errorf("defaultNodeID = %q, want %q", got, want)
	}
}

func TestPortOfAddr(t *testing.T) {
	for addr, want := range map[string]int{":3101": 3101, "-": 0, "": 0, "h:http": 0, "1.2.3.4:0": 0, "[::1]:7": 7} {
		if got := portOfAddr(addr); got != want {
			t.Errorf("portOfAddr(%q) = %d, want %d", addr, got, want)
		}
	}
}
