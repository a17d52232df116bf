package ui

import (
	"image/color"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tumble-voip/tumble/app"
)

// levelMeter shows the microphone's level on Mumble's scale (0-1,
// amplitude 1 + dBFS/96) over three zones, as Mumble's audio wizard does:
// silence (red) below the first threshold, speech (green) above the
// second, undecided (yellow) between; a mark stands on each threshold.
// The bar is bright while the gate lets voice out.
type levelMeter struct {
	widget.BaseWidget

	level, silence, speech float64
	transmit               bool
}

func newLevelMeter() *levelMeter {
	m := &levelMeter{silence: 0.3, speech: 0.5}
	m.ExtendBaseWidget(m)
	return m
}

// setLevel shows a MicLevel (inactive: an empty bar).
func (m *levelMeter) setLevel(ml app.MicLevel) {
	lv, tx := 0.0, false
	if ml.Active {
		lv, tx = min(max(ml.Level, 0), 1), ml.Transmit
	}
	if lv == m.level && tx == m.transmit {
		return
	}
	m.level, m.transmit = lv, tx
	m.Refresh()
}

// setThresholds moves the marks (fractions 0-1).
func (m *levelMeter) setThresholds(silence, speech float64) {
	if silence == m.silence && speech == m.speech {
		return
	}
	m.silence, m.speech = silence, speech
	m.Refresh()
}

// Meter colours: the zones dim, the level bright.
var (
	meterSilence     = color.NRGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0x60}
	meterMaybe       = color.NRGBA{R: 0xf9, G: 0xa8, B: 0x25, A: 0x60}
	meterSpeech      = color.NRGBA{R: 0x2e, G: 0x7d, B: 0x32, A: 0x60}
	meterLevel       = color.NRGBA{R: 0x60, G: 0x60, B: 0x60, A: 0xff}
	meterLevelActive = color.NRGBA{R: 0x2e, G: 0x7d, B: 0x32, A: 0xff}
)

// CreateRenderer implements fyne.Widget.
func (m *levelMeter) CreateRenderer() fyne.WidgetRenderer {
	r := &meterRenderer{m: m,
		zones: [3]*canvas.Rectangle{canvas.NewRectangle(meterSilence), canvas.NewRectangle(meterMaybe), canvas.NewRectangle(meterSpeech)},
		bar:   canvas.NewRectangle(meterLevel),
		marks: [2]*canvas.Rectangle{canvas.NewRectangle(theme.Color(theme.ColorNameForeground)), canvas.NewRectangle(theme.Color(theme.ColorNameForeground))},
	}
	return r
}

type meterRenderer struct {
	m     *levelMeter
	zones [3]*canvas.Rectangle
	bar   *canvas.Rectangle
	marks [2]*canvas.Rectangle
}

func (r *meterRenderer) Layout(size fyne.Size) {
	w, h := size.Width, size.Height
	x := func(f float64) float32 { return float32(min(max(f, 0), 1)) * w }
	bounds := [4]float32{0, x(r.m.silence), x(r.m.speech), w}
	for i, z := range r.zones {
		z.Move(fyne.NewPos(bounds[i], 0))
		z.Resize(fyne.NewSize(bounds[i+1]-bounds[i], h))
	}
	// The level bar fills the middle half of the height.
	r.bar.Move(fyne.NewPos(0, h/4))
	r.bar.Resize(fyne.NewSize(x(r.m.level), h/2))
	for i, f := range []float64{r.m.silence, r.m.speech} {
		r.marks[i].Move(fyne.NewPos(x(f)-1, 0))
		r.marks[i].Resize(fyne.NewSize(2, h))
	}
}

func (r *meterRenderer) MinSize() fyne.Size { return fyne.NewSize(200, 24) }

func (r *meterRenderer) Refresh() {
	r.bar.FillColor = meterLevel
	if r.m.transmit {
		r.bar.FillColor = meterLevelActive
	}
	fg := theme.Color(theme.ColorNameForeground)
	for _, mk := range r.marks {
		mk.FillColor = fg
	}
	r.Layout(r.m.Size())
	for _, o := range r.Objects() {
		o.Refresh()
	}
}

func (r *meterRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.zones[0], r.zones[1], r.zones[2], r.bar, r.marks[0], r.marks[1]}
}

func (r *meterRenderer) Destroy() {}

// meterInterval is how often a shown meter reads the level.
const meterInterval = 50 * time.Millisecond

// meterFeed reads the controller's MicLevel while a meter is shown and
// hands it to show on Fyne's goroutine. stop ends it and waits for its
// goroutine.
type meterFeed struct {
	quit chan struct{}
	done chan struct{}
	once sync.Once
}

// startMeterFeed reads the level every interval; an interval of 0 never
// reads (a test that shows the readings itself: Fyne's test driver runs
// fyne.Do on the calling goroutine, so a feed would race the test).
func startMeterFeed(ctrl Controller, every time.Duration, show func(app.MicLevel)) *meterFeed {
	f := &meterFeed{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(f.done)
		var ticks <-chan time.Time
		if every > 0 {
			tick := time.NewTicker(every)
			defer tick.Stop()
			ticks = tick.C
		}
		for {
			select {
			case <-f.quit:
				return
			case <-ticks:
				ml := ctrl.MicLevel()
				fyne.Do(func() { show(ml) })
			}
		}
	}()
	return f
}

func (f *meterFeed) stop() {
	if f == nil {
		return
	}
	f.once.Do(func() {
		close(f.quit)
		<-f.done
	})
}
