package app

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // bridge QR codes as photos or saved images
	_ "image/png"  // bridge QR codes as screenshots
	"strings"
	"unicode/utf8"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// Limits of ImportBridges.
const (
	// MaxBridgeImport bounds a file given to ImportBridges.
	MaxBridgeImport = 8 << 20
	// maxBridgeText bounds a text file of bridge lines.
	maxBridgeText = 64 << 10
	// maxQRPixels bounds an image's width times height, so that a small
	// file cannot make the decoder allocate gigabytes.
	maxQRPixels = 6000 * 6000
)

// ErrNoQRCode reports an image in which no QR code could be read.
var ErrNoQRCode = errors.New("no QR code found in the image")

// ImportBridges returns the bridge lines in a file a user chose: a text
// file of bridge lines, or a PNG or JPEG image of a QR code of them, as
// bridges.torproject.org and Tor's @GetBridgesBot hand them out. A QR code
// may hold plain lines or the list form of bridges.torproject.org
// (['obfs4 ...', 'obfs4 ...']). The lines are not checked: put them where
// typed lines go (Network.BridgeLines), which checks each one
// (BridgeLineProblems). An image without a readable QR code gives an error
// wrapping ErrNoQRCode.
func ImportBridges(data []byte) ([]string, error) {
	if len(data) > MaxBridgeImport {
		return nil, fmt.Errorf("app: bridge file: %d bytes, at most %d", len(data), MaxBridgeImport)
	}
	text := ""
	if isImage(data) {
		t, err := decodeQR(data)
		if err != nil {
			return nil, fmt.Errorf("app: bridge image: %w", err)
		}
		text = t
	} else {
		if len(data) > maxBridgeText {
			return nil, fmt.Errorf("app: bridge file: %d bytes of text, at most %d (not a PNG or JPEG image either)", len(data), maxBridgeText)
		}
		if !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0 {
			return nil, errors.New("app: bridge file: neither text nor a PNG or JPEG image")
		}
		text = string(data)
	}
	lines := SplitBridgeText(unlistBridges(text))
	if len(lines) == 0 {
		return nil, errors.New("app: bridge file: no bridge lines in it")
	}
	return lines, nil
}

// isImage reports whether data starts like a PNG or JPEG file.
func isImage(data []byte) bool {
	return bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) || bytes.HasPrefix(data, []byte("\xff\xd8\xff"))
}

// decodeQR reads the QR code in a PNG or JPEG image.
func decodeQR(data []byte) (text string, err error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("not a readable PNG or JPEG image: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxQRPixels {
		return "", fmt.Errorf("image of %dx%d pixels: too large for a QR code", cfg.Width, cfg.Height)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("not a readable PNG or JPEG image: %w", err)
	}
	// The decoder is third-party code run on a file from anywhere: a bug
	// in it must be an error, not a crash of the program.
	defer func() {
		if r := recover(); r != nil {
			text, err = "", fmt.Errorf("%w (decoder failure: %v)", ErrNoQRCode, r)
		}
	}()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoQRCode, err)
	}
	hints := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, hints)
	if err != nil {
		return "", fmt.Errorf("%w (%v)", ErrNoQRCode, err)
	}
	return res.GetText(), nil
}

// unlistBridges turns the list form of bridges.torproject.org's QR codes,
// ['obfs4 ...', 'obfs4 ...'] (a Python list, possibly of b'...' strings),
// into one line per element. Other text is returned as it is.
func unlistBridges(text string) string {
	t := strings.TrimSpace(text)
	if !strings.HasPrefix(t, "[") || !strings.HasSuffix(t, "]") {
		return text
	}
	t = t[1 : len(t)-1]
	var out []string
	for {
		t = strings.TrimLeft(t, " \t\r\n,")
		if t == "" {
			return strings.Join(out, "\n")
		}
		t = strings.TrimPrefix(t, "b")
		if t == "" || (t[0] != '\'' && t[0] != '"') {
			return text // not a list of strings
		}
		end := strings.IndexByte(t[1:], t[0])
		if end < 0 {
			return text
		}
		out = append(out, t[1:1+end])
		t = t[2+end:]
	}
}
