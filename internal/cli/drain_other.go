//go:build !unix

package cli

import "os"

// notifyDrain returns nil: there is no SIGUSR1 here; drain a comet with
// logic's admin endpoint.
func notifyDrain() (<-chan os.Signal, func()) { return nil, func() {} }
