//go:build !cgo

package app

import "errors"

// openAudio returns the audio link of a build without cgo: the Opus codec
// and the sound devices need cgo, so voice is not played or sent; who is
// talking is still shown.
func openAudio(p audioParams) (audioLink, string, error) {
	return newSilentAudio(), "This build has no sound (built without cgo): voice is neither played nor sent.", nil
}

// listSoundDevices fails: without cgo there are no sound devices.
func listSoundDevices() (SoundDevices, error) {
	return SoundDevices{}, errors.New("app: this build has no sound (built without cgo)")
}
