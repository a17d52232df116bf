//go:build ignore

// gen draws Tumble's application icon: an onion bulb whose inside is a
// voice level meter (five rounded bars), light on a dark violet rounded
// square. The shapes are large and few so that the icon still reads at
// 48 px. It is fully deterministic: the same program writes the same bytes.
//
// Usage (go generate runs it in this directory):
//
//	go run gen.go [-o Icon.png] [-size 512]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
)

// Palette.
var (
	background = color.NRGBA{0x2a, 0x1a, 0x4a, 0xff} // dark violet
	bulb       = color.NRGBA{0xd4, 0xbb, 0xff, 0xff} // light lavender
	layer      = color.NRGBA{0x9b, 0x74, 0xe0, 0xff} // onion layer lines
	bars       = background
)

// Geometry in units of the icon's side (0..1), y pointing down.
const (
	cornerRadius = 0.22 // of the rounded square

	bulbCX     = 0.5
	bulbCY     = 0.61 // centre of the round part
	bulbR      = 0.31 // radius of the round part
	bulbTop    = 0.07 // tip of the neck
	neckPower  = 2.2  // how long the neck stays thin (higher: longer)
	neckBase   = 0.8  // the neck's width at the equator, of the radius
	fillet     = 0.07
	tipLength  = 0.06  // the neck's pointed end
	layerAt    = 0.72  // onion layer lines, as a fraction of the half-width
	layerWidth = 0.021 // their stroke width

	barWidth = 0.042
	barGap   = 0.026
)

// barHeights are the level meter's bars, left to right, as full heights.
var barHeights = [...]float64{0.13, 0.25, 0.36, 0.25, 0.13}

// samples is the supersampling grid per pixel side (samples² per pixel).
const samples = 4

func main() {
	out := flag.String("o", "Icon.png", "output `file`")
	size := flag.Int("size", 512, "side in pixels")
	flag.Parse()
	if *size < 16 || *size > 4096 {
		fmt.Fprintf(os.Stderr, "gen: -size %d out of range 16-4096\n", *size)
		os.Exit(2)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, draw(*size)); err != nil {
		fmt.Fprintln(os.Stderr, "gen: encode:", err)
		os.Exit(1)
	}
	if err := writeAtomic(*out, buf.Bytes()); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// writeAtomic writes data to a temporary file next to path and renames it.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".icon-*.png")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// draw renders the icon at side n.
func draw(n int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	for py := 0; py < n; py++ {
		for px := 0; px < n; px++ {
			var r, g, b, a float64
			for sy := 0; sy < samples; sy++ {
				for sx := 0; sx < samples; sx++ {
					x := (float64(px) + (float64(sx)+0.5)/samples) / float64(n)
					y := (float64(py) + (float64(sy)+0.5)/samples) / float64(n)
					c, ok := shade(x, y)
					if !ok {
						continue
					}
					// Premultiplied accumulation.
					r += float64(c.R)
					g += float64(c.G)
					b += float64(c.B)
					a++
				}
			}
			if a == 0 {
				continue
			}
			img.SetNRGBA(px, py, color.NRGBA{
				R: uint8(math.Round(r / a)),
				G: uint8(math.Round(g / a)),
				B: uint8(math.Round(b / a)),
				A: uint8(math.Round(255 * a / samples / samples)),
			})
		}
	}
	return img
}

// shade returns the colour at (x, y), or false outside the icon.
func shade(x, y float64) (color.NRGBA, bool) {
	if !inRoundedSquare(x, y) {
		return color.NRGBA{}, false
	}
	w := bulbHalfWidth(y)
	dx := math.Abs(x - bulbCX)
	if dx > w {
		return background, true
	}
	if inBars(x, y) {
		return bars, true
	}
	if math.Abs(dx-layerAt*w) <= layerWidth/2 {
		return layer, true
	}
	return bulb, true
}

func inRoundedSquare(x, y float64) bool {
	dx := math.Max(math.Max(cornerRadius-x, x-(1-cornerRadius)), 0)
	dy := math.Max(math.Max(cornerRadius-y, y-(1-cornerRadius)), 0)
	return dx*dx+dy*dy <= cornerRadius*cornerRadius
}

// bulbHalfWidth is the onion's half-width at height y (0 outside): a disc,
// and above it a neck that stays thin below the tip and flares into the
// disc, joined with a smooth maximum so the outline has no corner.
func bulbHalfWidth(y float64) float64 {
	if y < bulbTop || y > bulbCY+bulbR {
		return 0
	}
	var body float64
	if dy := y - bulbCY; dy*dy < bulbR*bulbR {
		body = math.Sqrt(bulbR*bulbR - dy*dy)
	}
	if y >= bulbCY {
		return body
	}
	neck := neckBase * bulbR * math.Pow((y-bulbTop)/(bulbCY-bulbTop), neckPower)
	// The last stretch below the tip narrows to a point.
	return smoothMax(body, neck, fillet) * math.Min(1, (y-bulbTop)/tipLength)
}

// smoothMax is max(a, b) rounded where a and b are closer than k (a
// quadratic blend: exactly the maximum elsewhere).
func smoothMax(a, b, k float64) float64 {
	h := math.Max(k-math.Abs(a-b), 0) / k
	return math.Max(a, b) + h*h*k/4
}

// inBars is the level meter: vertical capsules centred on the bulb's
// centre.
func inBars(x, y float64) bool {
	total := float64(len(barHeights))*barWidth + float64(len(barHeights)-1)*barGap
	left := bulbCX - total/2
	for i, h := range barHeights {
		cx := left + float64(i)*(barWidth+barGap) + barWidth/2
		if inCapsule(x, y, cx, bulbCY, barWidth/2, h/2) {
			return true
		}
	}
	return false
}

// inCapsule is a vertical capsule of radius r whose straight part spans
// cy±(half-r).
func inCapsule(x, y, cx, cy, r, half float64) bool {
	dy := math.Max(math.Abs(y-cy)-(half-r), 0)
	dx := x - cx
	return dx*dx+dy*dy <= r*r
}
