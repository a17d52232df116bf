// Package mobile is Tumble's Android glue: the microphone permission, the
// phone's own voice processing and which of Tumble's DSP stages to run
// with it, and the app lifecycle on a phone.
//
// # Microphone permission
//
// Android grants RECORD_AUDIO at run time. Microphone runs the request
// flow over a Platform: it checks, shows the system dialog once, reads the
// answer when Tumble returns to the foreground, and tells a refusal that
// can be asked again (MicDenied) from one Android will not ask again
// (MicBlocked, only the app's settings page can undo it). MicState.Message
// is the text to show; without the permission Tumble still receives voice.
//
// # The phone's voice processing
//
// A capture stream opened through AAudio with the voice-communication input
// preset gets the phone's own echo cancellation, noise suppression and gain
// control, tuned for its microphones and speaker. Running Tumble's speexdsp
// stages on top of them does harm: a second echo canceller sees a
// reference whose echo is already gone and its residual suppressor eats
// the near-end voice, a second noise suppressor adds musical noise, and two
// gain controls pump against each other. PlanCapture therefore turns each
// of Tumble's stages off where the phone does the same job and keeps it
// where the phone has no such effect (AcousticEchoCanceler, NoiseSuppressor
// and AutomaticGainControl report availability per device), or where the
// preset cannot be set (Android before 9, API 28: miniaudio then opens
// OpenSL ES or AAudio without a preset).
//
// AudioPlatform is that decision as a voice.Platform: the controller
// asks it for a plan before it opens the sound devices (the stages its
// Sender still runs, and device.AndroidStream settings for the capture
// and playback streams) and tells it when the devices are open, which
// puts the audio system into its voice-call mode (MODE_IN_COMMUNICATION)
// until they close.
//
// # Lifecycle
//
// Fyne reports a screen turned off, another app in front and the
// permission dialog alike as "exited foreground". Keeper never stops audio
// or Tor there: the call goes on and the voice keeps playing. While a call
// is up it keeps the screen from blanking. Fyne's "stopped" means the
// activity was destroyed: Keeper then closes the controller (audio, which
// leaves the voice-call mode, and Tor) once and ends the process, because
// the embedded Tor cannot start twice in one process and Android would
// otherwise reuse the process for the next launch.
//
// Limits of a Fyne app (fyne.io/tools v1.7.4): the APK carries Fyne's fixed
// classes.dex, so Tumble cannot run a foreground service. Android 9 and
// later may deliver silence from the microphone while Tumble is not in
// the foreground; playback and the connection go on.
//
// # The program
//
// Phone puts the pieces together for cmd/tumble on Android: it gives the
// controller the AudioPlatform and the app's private files directory,
// asks for the microphone when the app starts, checks again when a
// connection begins, shows refusals through the program's MicPrompt (once
// more when a call starts without the microphone), and runs a Keeper with
// the controller.
//
// The decisions in this package are plain Go and build for GOOS=android
// with CGO_ENABLED=0, and are tested on Linux over a stand-in Platform;
// the JNI calls live in files built only for Android with cgo
// (NewPlatform and package internal/jni).
package mobile
