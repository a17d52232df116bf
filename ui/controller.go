package ui

import "github.com/tumble-voip/tumble/app"

// Controller is what the interface needs from the application: a state
// snapshot, a change signal and the user's intents. *app.Controller
// implements it; the interface exists so that the interface's contract
// with package app is written down in one place.
type Controller interface {
	// State returns a snapshot of everything the window shows.
	State() app.State
	// Watch returns a channel signalled after every change, and a function
	// that stops the signals.
	Watch() (<-chan struct{}, func())

	// Bookmarks returns the bookmark list in order.
	Bookmarks() []app.Bookmark
	// SaveBookmark adds b (empty ID) or updates it, and returns it as
	// stored.
	SaveBookmark(b app.Bookmark) (app.Bookmark, error)
	// DeleteBookmark removes a bookmark.
	DeleteBookmark(id string) error
	// MoveBookmark moves a bookmark to position to of the list.
	MoveBookmark(id string, to int) error
	// ImportLink adds a bookmark from a mumble:// link.
	ImportLink(link string) (app.Bookmark, error)
	// NewCircuit gives a bookmark fresh Tor isolation credentials.
	NewCircuit(id string) error
	// ForgetCertificate clears a bookmark's pinned server certificate.
	ForgetCertificate(id string) error

	// Settings returns the current settings.
	Settings() app.Settings
	// SetSettings validates and applies s.
	SetSettings(s app.Settings) error
	// SoundDevices lists the system's sound devices for the settings.
	SoundDevices() (app.SoundDevices, error)

	// Connect starts connecting to a bookmark; progress shows in State.
	Connect(id string)
	// Cancel stops whatever step is running.
	Cancel()
	// Disconnect ends the connection.
	Disconnect()
	// TrustNewCertificate accepts a changed server certificate and
	// connects again.
	TrustNewCertificate()
	// AnswerCertificate answers State.Certificate.
	AnswerCertificate(a app.CertificateAnswer)
	// StopReconnect stops the automatic reconnect countdown.
	StopReconnect()
	// ExportBookmark writes a bookmark with its certificate to a
	// passphrase-protected file; ImportBookmarkFile adds one from it.
	ExportBookmark(id, path, passphrase string) error
	ImportBookmarkFile(path, passphrase string) (app.Bookmark, error)
	// Register registers this user on the server (self-registration).
	Register() error
	// WipeSavedData deletes the saved bookmarks, settings and Tor state.
	WipeSavedData() error
	// RetryNow ends the reconnect countdown and tries at once.
	RetryNow()

	// Join moves this user to a channel and waits for the server; it is
	// called off Fyne's goroutine.
	Join(channelID uint32) error
	// SendChat sends a text message to the current channel.
	SendChat(text string) error
	// SendPrivate sends a text message to one user alone.
	SendPrivate(session uint32, text string) error
	// SetSelfMute mutes or unmutes the microphone.
	SetSelfMute(on bool)
	// SetSelfDeaf deafens or undeafens.
	SetSelfDeaf(on bool)
	// PushToTalk transmits while pressed is true.
	PushToTalk(pressed bool)
	// SetUserVolume sets a user's local volume, linear 0-2. Only a final
	// call (the slider released) is remembered in the settings: the steps
	// of a drag change what is heard and write nothing.
	SetUserVolume(session uint32, v float64, final bool)
	// SetUserMute mutes a user locally.
	SetUserMute(session uint32, muted bool)

	// StartMicTest starts the microphone test with the given settings
	// (devices, processing), playing the input back if hear.
	StartMicTest(s app.Settings, hear bool) error
	// SetMicTestHearing turns the test's playback on or off.
	SetMicTestHearing(hear bool)
	// StopMicTest stops the microphone test.
	StopMicTest()
	// MicLevel returns the microphone's level now, for a meter.
	MicLevel() app.MicLevel
}

// *app.Controller must keep implementing Controller.
var _ Controller = (*app.Controller)(nil)
