package app

import (
	"testing"

	"github.com/tumble-voip/tumble/mumble/murmurtest"
)

// TestRegisterKeepsAccountAcrossMachines: a user registers on a real
// server, exports the bookmark with its certificate, and in another
// (amnesic) Tumble imports it and is the same registered user.
func TestRegisterKeepsAccountAcrossMachines(t *testing.T) {
	srv := murmurtest.Start(t, murmurtest.Options{})
	c := newTestController(t, ControllerConfig{AudioBackend: AudioNull})
	b := addServerBookmark(t, c, srv.Addr, "reggie", "")
	if st := connect(t, c, b); st.Self.Registered {
		t.Fatal("registered before registering")
	}
	if err := c.Register(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, c, "registered", func(st State) bool { return st.Self.Registered })
	data, err := EncryptBookmark(mustBookmark(t, c, b.ID), "vault")
	if err != nil {
		t.Fatal(err)
	}
	c.Disconnect()

	vm := newTestController(t, ControllerConfig{Amnesic: true, AudioBackend: AudioNull})
	nb, err := vm.ImportBookmark(data, "vault")
	if err != nil {
		t.Fatal(err)
	}
	if st := connect(t, vm, nb); !st.Self.Registered || st.Self.Name != "reggie" {
		t.Errorf("after import: self %+v, want the registered reggie", st.Self)
	}
}

func mustBookmark(t *testing.T, c *Controller, id string) Bookmark {
	t.Helper()
	b, err := c.store.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
