package app

import "fmt"

// SoundDevices lists the system's sound devices by name, the names the
// settings' Audio Input and Audio Output device fields take.
type SoundDevices struct {
	// Capture holds the microphones and other inputs.
	Capture []string
	// Playback holds the speakers, headsets and other outputs.
	Playback []string
	// DefaultCapture and DefaultPlayback name the system's defaults ("" if
	// the system does not say).
	DefaultCapture, DefaultPlayback string
}

// SoundDevices lists the system's sound devices. With stand-in devices
// (ControllerConfig.AudioBackend other than AudioDevices) there is nothing
// to choose and it returns an error saying so.
func (c *Controller) SoundDevices() (SoundDevices, error) {
	if c.cfg.AudioBackend != AudioDevices {
		return SoundDevices{}, fmt.Errorf("app: sound devices are not used: this session's audio is %s", c.cfg.AudioBackend)
	}
	return listSoundDevices()
}
