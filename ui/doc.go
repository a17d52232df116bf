// Package ui is Tumble's graphical interface, written with Fyne.
//
// It only renders the state of an app.Controller and sends it the user's
// intents: every decision (connecting, Tor, settings rules, chat
// sanitising) lives in package app. Fyne types never leave this package.
//
// A UI is one main window with three panes: the onion bookmark list
// (Servers), the channel tree with its users (Channels) and the chat
// (Chat), under a Tor status bar that always shows how connections are
// made (embedded Tor, external Tor, or UNPROTECTED) and a session bar with
// the button that cancels or ends the current step. On a phone-sized
// canvas the three panes become tabs; the same code ships on Android.
//
// Chat text is shown as plain text. Links are shown as text the user can
// select and copy; the interface never opens or fetches them, and never
// loads images or other remote content.
//
// The UI follows the controller through Controller.Watch; Sync applies
// the current state at once, which is what tests use to stay on one
// goroutine.
package ui
