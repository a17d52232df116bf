package mobile

import "errors"

// ErrNotAndroid is returned by NewPlatform outside an Android build with
// cgo.
var ErrNotAndroid = errors.New("mobile: the Android platform needs an Android build with cgo")

// Platform is what Tumble asks of the phone's system. NewPlatform returns
// the Android implementation (JNI calls into the running activity).
type Platform interface {
	// APILevel returns the Android API level (Build.VERSION.SDK_INT).
	APILevel() int

	// MicrophoneGranted reports whether RECORD_AUDIO is granted. Before
	// Android 6 (API 23) it is granted at install time.
	MicrophoneGranted() (bool, error)
	// ShouldExplainMicrophone is Android's
	// shouldShowRequestPermissionRationale: true after the user refused
	// once (asking again shows the dialog again), false before the first
	// request and once the user chose not to be asked again.
	ShouldExplainMicrophone() (bool, error)
	// RequestMicrophone shows the system's permission dialog and returns
	// at once; the answer is read later with MicrophoneGranted. If the
	// user refused for good, Android answers without a dialog.
	RequestMicrophone() error
	// OpenAppSettings opens the system's settings page for Tumble, where
	// a permission refused for good can still be granted.
	OpenAppSettings() error

	// VoiceEffects reports which voice processing effects the phone has
	// (AcousticEchoCanceler, NoiseSuppressor and AutomaticGainControl
	// isAvailable).
	VoiceEffects() (Effects, error)
	// SetCommunicationMode puts the audio system into its voice-call mode
	// (AudioManager MODE_IN_COMMUNICATION) or back to normal. Many phones
	// engage their echo canceller and call routing only in that mode.
	SetCommunicationMode(on bool) error
}

// Effects is a set of voice processing stages.
type Effects struct {
	// EchoCancel removes the far end's voice picked up from the speaker.
	EchoCancel bool
	// NoiseSuppress removes steady background noise.
	NoiseSuppress bool
	// GainControl levels the voice.
	GainControl bool
}

// Any reports whether any stage is on.
func (e Effects) Any() bool { return e.EchoCancel || e.NoiseSuppress || e.GainControl }
