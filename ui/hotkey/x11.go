//go:build cgo && linux

package hotkey

/*
#cgo LDFLAGS: -lX11
#include <stdlib.h>
#include <poll.h>
#include <X11/Xlib.h>
#include <X11/XKBlib.h>

static int grabErr;
static int onGrabError(Display *d, XErrorEvent *e) { grabErr = e->error_code; return 0; }

// grab grabs code with any modifiers held (Shift, Caps Lock, Num Lock
// ...), as push-to-talk must work whatever else is pressed. It returns an
// X error code (BadAccess: another program has the key) or 0.
static int grab(Display *d, int code) {
	Window root = DefaultRootWindow(d);
	XErrorHandler old = XSetErrorHandler(onGrabError);
	grabErr = 0;
	XGrabKey(d, code, AnyModifier, root, False, GrabModeAsync, GrabModeAsync);
	XSync(d, False);
	XSetErrorHandler(old);
	return grabErr;
}

// next waits for the next key event of code, or for stopfd to become
// readable: 1 press, 0 release, -1 stop.
static int next(Display *d, int code, int stopfd) {
	for (;;) {
		while (XPending(d) > 0) {
			XEvent ev;
			XNextEvent(d, &ev);
			if ((ev.type == KeyPress || ev.type == KeyRelease) && ev.xkey.keycode == (unsigned)code)
				return ev.type == KeyPress;
		}
		struct pollfd fds[2] = {{ConnectionNumber(d), POLLIN, 0}, {stopfd, POLLIN, 0}};
		if (poll(fds, 2, -1) < 0)
			continue;
		if (fds[1].revents)
			return -1;
		if (fds[0].revents & (POLLERR|POLLHUP))
			return -1;
	}
}
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"unsafe"
)

const supported = true

// x11Grab is a passive key grab on the root window of its own X
// connection, read by one goroutine.
type x11Grab struct {
	dpy      *C.Display
	code     C.int
	stopR    *os.File
	stopW    *os.File
	done     chan struct{}
	once     sync.Once
	onChange func(bool)
}

func grabX11(display, sym string, onChange func(bool)) (*x11Grab, error) {
	cdisp := C.CString(display)
	defer C.free(unsafe.Pointer(cdisp))
	dpy := C.XOpenDisplay(cdisp)
	if dpy == nil {
		return nil, fmt.Errorf("hotkey: cannot open the X11 display %q: %w", display, ErrUnsupported)
	}
	csym := C.CString(sym)
	defer C.free(unsafe.Pointer(csym))
	ks := C.XStringToKeysym(csym)
	if ks == C.NoSymbol {
		C.XCloseDisplay(dpy)
		return nil, fmt.Errorf("hotkey: X11 knows no key %q", sym)
	}
	code := C.int(C.XKeysymToKeycode(dpy, ks))
	if code == 0 {
		C.XCloseDisplay(dpy)
		return nil, fmt.Errorf("hotkey: the keyboard has no key %q", sym)
	}
	// Held keys repeat as press/release pairs unless detectable
	// auto-repeat is on: then only presses repeat, which next filters.
	var supportedRepeat C.Bool
	C.XkbSetDetectableAutoRepeat(dpy, C.True, &supportedRepeat)
	if e := C.grab(dpy, code); e != 0 {
		C.XCloseDisplay(dpy)
		if e == C.BadAccess {
			return nil, fmt.Errorf("hotkey: another program holds the key %s", sym)
		}
		return nil, fmt.Errorf("hotkey: grabbing the key %s failed (X error %d)", sym, int(e))
	}
	r, w, err := os.Pipe()
	if err != nil {
		C.XCloseDisplay(dpy)
		return nil, fmt.Errorf("hotkey: %w", err)
	}
	g := &x11Grab{dpy: dpy, code: code, stopR: r, stopW: w, done: make(chan struct{}), onChange: onChange}
	go g.run()
	return g, nil
}

func (g *x11Grab) run() {
	defer close(g.done)
	down := false
	for {
		switch C.next(g.dpy, g.code, C.int(g.stopR.Fd())) {
		case -1:
			if down {
				g.onChange(false)
			}
			return
		case 1:
			if !down {
				down = true
				g.onChange(true)
			}
		case 0:
			if down {
				down = false
				g.onChange(false)
			}
		}
	}
}

func (g *x11Grab) close() error {
	var err error
	g.once.Do(func() {
		_, werr := g.stopW.Write([]byte{0})
		<-g.done
		C.XUngrabKey(g.dpy, g.code, C.AnyModifier, C.XDefaultRootWindow(g.dpy))
		C.XCloseDisplay(g.dpy)
		err = errors.Join(werr, g.stopR.Close(), g.stopW.Close())
	})
	return err
}
