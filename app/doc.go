// Package app is Tumble's core: bookmarks, settings, sessions; no GUI imports.
//
// It owns everything the user sees and keeps, as plain Go values: the onion
// bookmark list ([BookmarkStore]), the settings and their presets
// ([Settings], [PresetTorRecommended]), mumble:// links ([ParseLink],
// [FormatLink]), chat text ([ParseChatHTML], [FormatChatMessage]), the
// reconnect policy ([Reconnector]) and the environment checks that decide
// amnesic mode and the default Tor mode ([DetectEnvironment]).
//
// Files the user keeps are written through a [Storage]: a [DirStorage]
// replaces files atomically (temporary file, fsync, rename, fsync of the
// directory) with mode 0600, and a [MemoryStorage] keeps them in memory
// only, which is what amnesic mode uses. The package never imports Fyne;
// ui/ renders its state and sends intents.
package app
