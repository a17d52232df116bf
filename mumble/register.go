package mumble

import (
	"context"

	"google.golang.org/protobuf/proto"

	"github.com/tumble-voip/tumble/mumble/mumbleproto"
)

// Register registers this client's user on the server under its current
// name and client certificate (self-registration, as Mumble's "Register"
// does: a UserState about oneself with user_id set) and waits until the
// server confirms with the account's ID. Servers allow it to users with
// the SelfRegister permission and a certificate; a refusal is a
// *PermissionDeniedError. Registering a registered user does nothing.
func (c *Client) Register(ctx context.Context) error {
	const op = "register"
	c.mu.Lock()
	session := c.st.session
	self := c.st.users[session]
	c.mu.Unlock()
	if self != nil && self.Registered {
		return nil
	}
	w := c.addWaiter(func(v any) (bool, error) {
		switch ev := v.(type) {
		case *UserChangedEvent:
			if ev.User.Session == session && ev.User.Registered {
				return true, nil
			}
		case *PermissionDeniedEvent:
			if refusesRegister(ev.Err) {
				return true, ev.Err
			}
		}
		return false, nil
	})
	if err := c.send(ctx, &mumbleproto.UserState{Session: proto.Uint32(session), UserId: proto.Uint32(0)}); err != nil {
		c.removeWaiter(w)
		return opError(op, err)
	}
	return opError(op, c.wait(ctx, w))
}

// refusesRegister reports whether a PermissionDenied answers a
// registration: a missing (Self)Register permission, a missing
// certificate, or an unacceptable name.
func refusesRegister(e *PermissionDeniedError) bool {
	switch e.Type {
	case DenyMissingCertificate, DenyUserName:
		return true
	case DenyPermission:
		return e.Permission == PermissionSelfRegister || e.Permission == PermissionRegister
	}
	return false
}
