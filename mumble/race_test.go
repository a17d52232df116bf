//go:build race

package mumble

// raceEnabled reports a -race build, whose instrumentation allocates.
const raceEnabled = true
