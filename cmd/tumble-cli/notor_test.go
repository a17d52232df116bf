//go:build !libtor

package main

// cliBuildTags are the tags TestMain builds tumble-cli with: without the
// embedded Tor (its tests are in tor_test.go, build tag libtor).
const cliBuildTags = "nolibopusfile"

// closeFixtures stops the shared fixtures after all tests: none here.
func closeFixtures() error { return nil }
