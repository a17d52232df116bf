// Package icon holds Tumble's application icon: an onion bulb with a voice
// level meter inside, drawn by gen.go (run by go generate) into Icon.png.
// FyneApp.toml points at that file for `fyne package`; the GUI can set it
// as its window icon with Resource.
package icon

import (
	_ "embed" // for the icon bytes
	"fyne.io/fyne/v2"
)

//go:generate go run gen.go -o Icon.png -size 512

// iconPNG is Icon.png: 512×512 pixels, RGBA, transparent outside its rounded
// square.
//
//go:embed Icon.png
var iconPNG []byte

// Name is the icon's resource name.
const Name = "Icon.png"

// Resource returns the icon as a Fyne resource.
func Resource() fyne.Resource {
	return fyne.NewStaticResource(Name, PNG())
}

// PNG returns a copy of the icon's PNG bytes.
func PNG() []byte {
	return append([]byte(nil), iconPNG...)
}
