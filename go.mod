module github.com/tumble-voip/tumble

go 1.26

require (
	fyne.io/fyne/v2 v2.7.1 // indirect
	github.com/cretz/bine v0.2.0 // indirect
	github.com/gen2brain/malgo v0.11.24 // indirect
	github.com/hraban/opus v0.0.0-20260708213942-bde8e4304501 // indirect
	golang.org/x/sys v0.44.0 // indirect
	google.golang.org/protobuf v1.36.11 // indirect
)
