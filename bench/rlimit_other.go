//go:build !unix

package bench

import "errors"

// RaiseFileLimit reports an error off Unix, where there is no limit of
// open files to raise.
func RaiseFileLimit() (uint64, error) {
	return 0, errors.New("bench: no file limit to raise on this system")
}
