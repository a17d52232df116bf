package app

// Amnesia is the decision whether this run of Tumble leaves traces on disk.
// In amnesic mode bookmarks and settings already saved can be read, but
// every change lives in a MemoryStorage, and the embedded Tor keeps its
// state in a temporary directory removed at exit (tor.Server.Amnesic):
// nothing is written to the configuration directory.
type Amnesia struct {
	// On is true in amnesic mode.
	On bool
	// Reason says why, for the status line ("--amnesic", "Qubes disposable
	// VM: ...", "settings"), or is empty when off.
	Reason string
}

// DecideAmnesia decides on amnesic mode: on if flag (--amnesic) is set, or
// the environment is a Qubes disposable VM, or the saved settings ask for
// it (savedAmnesic, Privacy.Amnesic; pass false if none were loaded).
func DecideAmnesia(flag bool, env Environment, savedAmnesic bool) Amnesia {
	switch {
	case flag:
		return Amnesia{On: true, Reason: "--amnesic"}
	case env.QubesDisposable:
		return Amnesia{On: true, Reason: "Qubes disposable VM (" + env.QubesReason + ")"}
	case savedAmnesic:
		return Amnesia{On: true, Reason: "amnesic mode is on in the settings"}
	}
	return Amnesia{}
}

// Storage returns the storage for this run (see OpenStorage): in amnesic
// mode a MemoryStorage reading through to dir (DefaultConfigDir if empty),
// else a DirStorage for it.
func (a Amnesia) Storage(dir string) (Storage, error) {
	return OpenStorage(dir, a.On)
}

// SetSavedAmnesia turns Privacy.Amnesic on or off in the settings file in
// the persistent configuration directory dir (DefaultConfigDir if empty),
// leaving the other settings as saved. It writes to disk even during an
// amnesic session: it is how a user leaves amnesic mode that the saved
// settings asked for, since an amnesic session saves nothing otherwise.
func SetSavedAmnesia(dir string, on bool) error {
	st, err := OpenStorage(dir, false)
	if err != nil {
		return err
	}
	s, err := LoadSettings(st)
	if err != nil {
		return err
	}
	s.Privacy.Amnesic = on
	return SaveSettings(st, s)
}
