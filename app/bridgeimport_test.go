package app

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"slices"
	"strings"
	"testing"

	qrenc "github.com/skip2/go-qrcode"

	"github.com/tumble-voip/tumble/tor"
)

// testObfs4b is a second well-formed obfs4 line, as bridges.torproject.org
// hands them out.
const testObfs4b = "obfs4 198.51.100.7:8443 4D6C0DF0A6A2F1B3C0E6B27C0F0D3A2E5B6C7D8E cert=ssH+9rP8dG2NtgGlYXplZ4kUb4c1e9vJaDl0cY3yy5mmr6AqWtU8Mx9ehd1qhQW3oxj7Og iat-mode=0"

// qrPNG returns a PNG of a QR code of text.
func qrPNG(t testing.TB, text string) []byte {
	t.Helper()
	b, err := qrenc.Encode(text, qrenc.Medium, 512)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// qrJPEG returns a JPEG photo-like copy of a QR code of text.
func qrJPEG(t *testing.T, text string) []byte {
	t.Helper()
	q, err := qrenc.New(text, qrenc.Medium)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, q.Image(600), &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestImportBridgesQR: QR codes of bridge lines, in the list form of
// bridges.torproject.org and as plain lines, PNG and JPEG, decode to the
// lines, which then pass the same per-line checks as typed lines.
func TestImportBridgesQR(t *testing.T) {
	want := []string{testObfs4, testObfs4b}
	if _, err := tor.ParseBridgeLines(want); err != nil {
		t.Fatalf("test lines: %v", err)
	}
	list := "['" + testObfs4 + "', '" + testObfs4b + "']"
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"list PNG", qrPNG(t, list)},
		{"list JPEG", qrJPEG(t, list)},
		{"bytes list PNG", qrPNG(t, "[b'"+testObfs4+"', b'"+testObfs4b+"']")},
		{"lines PNG", qrPNG(t, testObfs4+"\n"+testObfs4b+"\n")},
		{"text file", []byte("# from the bot\r\n" + testObfs4 + "\r\n" + testObfs4b + "\r\n")},
	} {
		got, err := ImportBridges(tc.data)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		got = slices.DeleteFunc(got, func(l string) bool { return strings.HasPrefix(l, "#") })
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, want)
		}
		if p := BridgeLineProblems(got); p != nil {
			t.Errorf("%s: problems %q", tc.name, p)
		}
	}

	// A QR code with a bad line: imported, then named by the line checks.
	got, err := ImportBridges(qrPNG(t, "['"+testObfs4+"', 'obfs4 192.0.2.1:443']"))
	if err != nil {
		t.Fatal(err)
	}
	if p := BridgeLineProblems(got); len(p) != 1 || !strings.HasPrefix(p[0], "line 2: missing fingerprint") {
		t.Errorf("problems of a bad line from a QR code: %q", p)
	}
}

// TestImportBridgesBad: images without a QR code, broken images, binary
// junk and empty files give clear errors.
func TestImportBridgesBad(t *testing.T) {
	blank := image.NewGray(image.Rect(0, 0, 200, 200))
	for i := range blank.Pix {
		blank.Pix[i] = 0xff
	}
	var white bytes.Buffer
	if err := png.Encode(&white, blank); err != nil {
		t.Fatal(err)
	}
	noise := image.NewGray(image.Rect(0, 0, 64, 64))
	for i := range noise.Pix {
		noise.Pix[i] = color.Gray{Y: uint8(i * 7919 % 251)}.Y
	}
	var noisy bytes.Buffer
	if err := png.Encode(&noisy, noise); err != nil {
		t.Fatal(err)
	}
	qr := qrPNG(t, testObfs4)
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"white PNG", white.Bytes(), "no QR code found"},
		{"noise PNG", noisy.Bytes(), "no QR code found"},
		{"cut PNG", qr[:len(qr)/2], "not a readable PNG or JPEG image"},
		{"JPEG header only", []byte("\xff\xd8\xff\xe0junk"), "not a readable PNG or JPEG image"},
		{"binary", []byte{0x00, 0x01, 0xfe, 0xff, 0x00}, "neither text nor a PNG or JPEG image"},
		{"empty", nil, "no bridge lines"},
		{"huge", make([]byte, MaxBridgeImport+1), "at most"},
	} {
		got, err := ImportBridges(tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %q, %v; want an error containing %q", tc.name, got, err, tc.want)
		}
	}
	if _, err := ImportBridges(white.Bytes()); !errors.Is(err, ErrNoQRCode) {
		t.Errorf("white PNG: %v, want ErrNoQRCode", err)
	}
}

func TestUnlistBridges(t *testing.T) {
	for in, want := range map[string]string{
		"['a b', 'c d']":    "a b\nc d",
		`["a b","c d"]`:     "a b\nc d",
		"[b'a', b'c']":      "a\nc",
		"[]":                "",
		"['a', x]":          "['a', x]",
		"['a":               "['a",
		"plain\nlines":      "plain\nlines",
		"[2001:db8::1]:443": "[2001:db8::1]:443",
	} {
		if got := unlistBridges(in); got != want {
			t.Errorf("unlistBridges(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzImportBridges: no input makes the importer panic.
func FuzzImportBridges(f *testing.F) {
	f.Add([]byte("['" + testObfs4 + "']"))
	f.Add(qrPNG(f, "['"+testObfs4+"']"))
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Add([]byte("\xff\xd8\xff"))
	f.Add([]byte("[b'x', \"y\"]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ImportBridges(data)
	})
}
