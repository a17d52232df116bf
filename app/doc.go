// Package app is Tumble's core: bookmarks, settings, sessions; no GUI imports.
//
// It owns everything the user sees and keeps, as plain Go values: the onion
// bookmark list ([BookmarkStore]), the settings and their presets
// ([Settings], [PresetTorRecommended]), mumble:// links ([ParseLink],
// [FormatLink]), chat text ([ParseChatHTML], [FormatChatMessage]), the
// reconnect policy ([Reconnector]) and the environment checks that decide
// amnesic mode and the default Tor mode ([DetectEnvironment]).
//
// A [Controller] composes the libraries: tor (the Tor servers), mumble (the
// connection) and voice (the call's sound). It exposes a [State] snapshot
// and intents. Each Connect runs a session that owns its part of the state
// and its own lock; the Controller adds Tor's status and never holds a
// lock while writing files. Words used throughout: a session is one
// Connect (attempts, the connection, reconnects), a conn one established
// connection, a call its sound (a voice.Call), a link a mumble:// URL. A
// user's "session" number is the Mumble protocol's session ID.
//
// Files the user keeps are written through a [Storage]: a [DirStorage]
// replaces files atomically (temporary file, fsync, rename, fsync of the
// directory) with mode 0600, and a [MemoryStorage] keeps them in memory
// only, which is what amnesic mode uses. The package never imports Fyne;
// ui/ renders its state and sends intents.
package app
