//go:build !libtor

package main

import "github.com/cretz/bine/process"

// embeddedTor returns nil: this binary was built without the embedded Tor
// (build with -tags libtor, as make build does), so --tor embedded fails
// with a clear error while socks= and off still work.
func embeddedTor() process.Creator { return nil }
