package icon

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestIconIsGenerated checks that the committed Icon.png is what gen.go
// draws: the icon has a source, and editing one without the other fails.
func TestIconIsGenerated(t *testing.T) {
	out := filepath.Join(t.TempDir(), "Icon.png")
	cmd := exec.Command("go", "run", "gen.go", "-o", out, "-size", "512")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run gen.go: %v\n%s", err, msg)
	}
	fresh, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fresh, PNG()) {
		t.Fatal("Icon.png differs from gen.go's output: run go generate ./mobile/icon")
	}
}

func TestIconImage(t *testing.T) {
	img, err := png.Decode(bytes.NewReader(PNG()))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 512 || b.Dy() != 512 {
		t.Fatalf("icon is %v, want 512×512", b)
	}
	if r := Resource(); r.Name() != Name || !bytes.Equal(r.Content(), PNG()) {
		t.Error("Resource does not carry the icon")
	}
	// Transparent corners (rounded square), opaque centre.
	if _, _, _, a := img.At(2, 2).RGBA(); a != 0 {
		t.Errorf("corner alpha %d, want transparent", a)
	}
	if _, _, _, a := img.At(256, 256).RGBA(); a != 0xffff {
		t.Errorf("centre alpha %d, want opaque", a)
	}
}

// TestIconReadsAt48 shrinks the icon to 48×48 (a launcher or panel size)
// and checks that its parts stay apart: the bulb is much lighter than the
// background, and the level bars inside it show as dark columns between
// light ones.
func TestIconReadsAt48(t *testing.T) {
	img, err := png.Decode(bytes.NewReader(PNG()))
	if err != nil {
		t.Fatal(err)
	}
	small := shrink(img, 48)
	bg := small[24][5]    // left of the bulb, inside the square
	bulb := small[37][14] // lower left of the bulb, clear of the bars
	if bulb-bg < 0.4 {
		t.Errorf("bulb %.2f vs background %.2f: too little contrast at 48 px", bulb, bg)
	}
	// Along the bulb's middle row, the bars make at least four dark/light
	// alternations with a swing of at least 0.25.
	row := small[29]
	swings := 0
	last := row[14]
	for x := 15; x <= 33; x++ {
		if math.Abs(row[x]-last) >= 0.25 {
			swings++
			last = row[x]
		}
	}
	if swings < 4 {
		t.Errorf("bars do not show at 48 px: %d swings along the middle row %v", swings, row[14:34])
	}
}

// shrink box-filters img to n×n luminance values (0 dark, 1 light) over
// an opaque black backdrop.
func shrink(img image.Image, n int) [][]float64 {
	b := img.Bounds()
	out := make([][]float64, n)
	for y := range out {
		out[y] = make([]float64, n)
		for x := range out[y] {
			x0, x1 := b.Min.X+x*b.Dx()/n, b.Min.X+(x+1)*b.Dx()/n
			y0, y1 := b.Min.Y+y*b.Dy()/n, b.Min.Y+(y+1)*b.Dy()/n
			var sum float64
			for yy := y0; yy < y1; yy++ {
				for xx := x0; xx < x1; xx++ {
					r, g, bl, _ := img.At(xx, yy).RGBA() // premultiplied: over black
					sum += (0.2126*float64(r) + 0.7152*float64(g) + 0.0722*float64(bl)) / 0xffff
				}
			}
			out[y][x] = sum / float64((x1-x0)*(y1-y0))
		}
	}
	return out
}
