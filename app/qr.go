package app

import (
	"fmt"
	"image"

	qrcode "github.com/skip2/go-qrcode"
)

// InviteQR returns link as a QR code image, size pixels wide (at least
// 128), black on white with a quiet zone, for a phone to scan. The medium
// error correction level keeps a full invitation (onion address, password,
// client key, fingerprint) scannable at a few hundred pixels.
func InviteQR(link string, size int) (image.Image, error) {
	if size < 128 {
		size = 128
	}
	q, err := qrcode.New(link, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("app: QR code: %w", err)
	}
	return q.Image(size), nil
}
