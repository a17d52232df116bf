package app

import (
	"fmt"

	"github.com/tumble-voip/tumble/voice/device"
)

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

// listSoundDevices lists the system's devices (device.List; in a build
// without cgo its error says there are none).
func listSoundDevices() (SoundDevices, error) {
	capture, playback, err := device.List()
	if err != nil {
		return SoundDevices{}, err
	}
	var out SoundDevices
	out.Capture, out.DefaultCapture = deviceNames(capture)
	out.Playback, out.DefaultPlayback = deviceNames(playback)
	return out, nil
}

// deviceNames returns the names of the devices and the default's.
func deviceNames(infos []device.Info) (names []string, def string) {
	for _, in := range infos {
		names = append(names, in.Name)
		if in.Default {
			def = in.Name
		}
	}
	return names, def
}
