//go:build !unix

package murmur

// lockDir does nothing where flock is missing.
func lockDir(name string) (func(), error) { return func() {}, nil }
