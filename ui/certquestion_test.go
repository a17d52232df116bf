package ui

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/tumble-voip/tumble/app"
	"github.com/tumble-voip/tumble/mumble"
)

// TestCertificateQuestion: an unverified certificate opens one dialog with
// its fingerprint and three answers; the answer reaches the controller and
// the dialog closes; a question gone by itself closes its dialog.
func TestCertificateQuestion(t *testing.T) {
	u, ctrl := idleUI(t, &Options{Layout: LayoutDesktop})
	fp := mumble.FingerprintOf([]byte("interceptor"))
	asking := app.State{Phase: app.PhaseConnecting, Tor: app.TorStatus{Mode: "embedded", Protected: true},
		Certificate: &app.CertificateQuestion{Host: "mumble.example.org", Fingerprint: fp, Reason: "it is self-signed"}}
	ctrl.setState(asking)
	u.Sync()
	u.Sync() // the same question: still one dialog
	if u.certQ == nil {
		t.Fatal("no dialog for the question")
	}
	overlays := u.win.Canvas().Overlays().List()
	if len(overlays) != 1 {
		t.Fatalf("%d overlays, want one dialog", len(overlays))
	}
	text := strings.Join(texts(overlays[0]), "\n")
	if !strings.Contains(text, "mumble.example.org") || !strings.Contains(text, fp.String()[:4]) ||
		!strings.Contains(text, "Nothing has been sent") {
		t.Errorf("dialog text:\n%s", text)
	}
	test.Tap(findButton(t, overlays[0], "Trust and remember"))
	want := fmt.Sprintf("AnswerCertificate(%d)", app.CertificateTrustAndPin)
	if !slices.Contains(ctrl.callsSoFar(), want) || u.certQ != nil {
		t.Errorf("calls %v, dialog %v; want %s and the dialog closed", ctrl.callsSoFar(), u.certQ, want)
	}

	// Asked again, then the attempt ends without an answer.
	asking.Certificate = &app.CertificateQuestion{Host: "other.example", Fingerprint: fp}
	ctrl.setState(asking)
	u.Sync()
	if u.certQ == nil {
		t.Fatal("no dialog for the second question")
	}
	ctrl.setState(app.State{Phase: app.PhaseDisconnected})
	u.Sync()
	if u.certQ != nil {
		t.Error("the dialog stayed after the question went away")
	}
}
