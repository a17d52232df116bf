package app

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
)

// RoomView is the hosted room as State shows it.
type RoomView struct {
	// Phase is the room's current step; empty when no room is hosted.
	Phase RoomPhase
	// Onion is the room's onion address once known.
	Onion string
	// Guests are the guests' names.
	Guests []string
	// Gateway is what the Tor gateway needs to publish the room (Phase
	// RoomOnGateway, in socks mode); Onion is then not the room's address.
	Gateway *GatewaySetup
	// Err is why starting the room failed (Phase RoomFailed).
	Err error
}

// Room phases beyond RoomPhase's start steps.
const (
	RoomStopped RoomPhase = ""
	RoomFailed  RoomPhase = "failed"
)

// roomHost is the Controller's hosted room.
type roomHost struct {
	mu     sync.Mutex
	room   *Room
	view   RoomView
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// ErrRoomRunning is returned by StartRoom while a room is hosted.
var ErrRoomRunning = errors.New("app: a room is already hosted; stop it first")

// StartRoom hosts a room with cfg: in the background it opens the room
// ("rooms/default" in the configuration directory, or a temporary
// directory in amnesic mode), starts the Mumble server, publishes the onion
// service through the current Tor and then joins it as the user "host"
// (in socks mode it stops at RoomOnGateway). State().Hosting follows every
// step.
func (c *Controller) StartRoom(cfg RoomConfig) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrControllerClosed
	}
	choice, err := c.torChoiceLocked()
	c.mu.Unlock()
	if err != nil {
		return err
	}
	h := &c.host
	h.mu.Lock()
	if h.view.Phase != RoomStopped && h.view.Phase != RoomFailed {
		h.mu.Unlock()
		return ErrRoomRunning
	}
	dir := c.cfg.ConfigDir
	if dir == "" && !c.amnesic {
		if dir, err = DefaultConfigDir(); err != nil {
			h.mu.Unlock()
			return err
		}
	}
	room, err := OpenRoom(filepath.Join(dir, "rooms", "default"), c.amnesic, cfg)
	if err != nil {
		h.mu.Unlock()
		return err
	}
	ctx, cancel := context.WithCancel(c.ctx)
	h.room, h.cancel = room, cancel
	h.view = RoomView{Phase: RoomStartingServer, Onion: room.Onion(), Guests: room.Guests()}
	h.wg.Add(1)
	h.mu.Unlock()
	c.changed()
	go func() {
		defer h.wg.Done()
		err := c.runRoom(ctx, room, choice)
		h.mu.Lock()
		if err != nil && h.room == room { // not stopped meanwhile
			h.view.Phase, h.view.Err = RoomFailed, err
		}
		h.mu.Unlock()
		c.changed()
	}()
	return nil
}

// runRoom starts room and joins it.
func (c *Controller) runRoom(ctx context.Context, room *Room, choice torChoice) error {
	e, err := c.tors.get(choice)
	if err != nil {
		room.Stop()
		return err
	}
	if _, err := e.up(ctx); err != nil {
		room.Stop()
		return err
	}
	// The host's own key goes into the first descriptor.
	if room.Config().ClientAuth {
		if _, err := room.HostKey(ctx); err != nil {
			room.Stop()
			return err
		}
		c.refreshRoom()
	}
	err = room.Start(ctx, e.srv, func(p RoomPhase) {
		c.host.mu.Lock()
		c.host.view.Phase = p
		c.host.mu.Unlock()
		c.changed()
	})
	if err != nil {
		room.Stop()
		return err
	}
	if gw := room.Gateway(); gw != nil {
		// Only the gateway knows the address: nothing to join yet.
		c.host.mu.Lock()
		c.host.view.Gateway, c.host.view.Onion = gw, ""
		c.host.mu.Unlock()
		return nil
	}
	link, err := room.Invite(hostGuest(room))
	if err != nil {
		return err
	}
	b, err := ParseLink(link)
	if err != nil {
		return err
	}
	b.Username = "host"
	saved, err := c.SaveBookmark(b)
	if err != nil {
		return err
	}
	c.Connect(saved.ID)
	return nil
}

// hostGuest is the guest entry whose key the host uses ("" without client
// authorization).
func hostGuest(r *Room) string {
	if r.Config().ClientAuth {
		return "host"
	}
	return ""
}

// StopRoom stops the hosted room: the onion service is removed and the
// server stopped (an amnesic room's files are removed).
func (c *Controller) StopRoom() error {
	h := &c.host
	h.mu.Lock()
	room, cancel := h.room, h.cancel
	h.room, h.cancel = nil, nil
	h.view = RoomView{}
	h.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	h.wg.Wait()
	var err error
	if room != nil {
		err = room.Stop()
	}
	c.changed()
	return err
}

// AddGuest adds a guest to the hosted room and returns the invitation.
func (c *Controller) AddGuest(name string) (string, error) {
	room := c.hostedRoom()
	if room == nil {
		return "", errors.New("app: no room is hosted")
	}
	link, err := room.AddGuest(c.ctx, name)
	c.refreshRoom()
	return link, err
}

// RevokeGuest revokes a guest of the hosted room.
func (c *Controller) RevokeGuest(name string) error {
	room := c.hostedRoom()
	if room == nil {
		return errors.New("app: no room is hosted")
	}
	err := room.RevokeGuest(c.ctx, name)
	c.refreshRoom()
	return err
}

// RoomInvite returns the invitation link for a guest of the hosted room.
func (c *Controller) RoomInvite(guest string) (string, error) {
	room := c.hostedRoom()
	if room == nil {
		return "", errors.New("app: no room is hosted")
	}
	return room.Invite(guest)
}

func (c *Controller) hostedRoom() *Room {
	c.host.mu.Lock()
	defer c.host.mu.Unlock()
	return c.host.room
}

func (c *Controller) refreshRoom() {
	c.host.mu.Lock()
	if c.host.room != nil {
		c.host.view.Guests = c.host.room.Guests()
	}
	c.host.mu.Unlock()
	c.changed()
}

// roomView returns the hosted room's view for State.
func (c *Controller) roomView() RoomView {
	c.host.mu.Lock()
	defer c.host.mu.Unlock()
	v := c.host.view
	v.Guests = append([]string(nil), v.Guests...)
	return v
}
