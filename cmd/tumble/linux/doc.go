// Package linux holds the test of Tumble's Linux package, the tarball that
// `make package-linux` writes to dist/: it unpacks the archive, installs
// it with the Makefile inside into a temporary prefix, and runs the
// installed binary. It runs when TUMBLE_PACKAGE_TEST=1 (then a missing
// tarball is a failure) or when dist/ already holds the tarball. No package
// code lives here.
package linux
