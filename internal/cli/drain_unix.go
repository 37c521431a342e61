//go:build unix

package cli

import (
	"os"
	"os/signal"
	"syscall"
)

// notifyDrain returns a channel that receives SIGUSR1, the signal that
// drains a comet, and the function that stops the notification.
func notifyDrain() (<-chan os.Signal, func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGUSR1)
	return sigs, func() { signal.Stop(sigs) }
}
