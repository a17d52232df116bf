//go:build android && cgo

package mobile

import (
	"errors"
	"fmt"

	"fyne.io/fyne/v2/driver"

	"github.com/tumble-voip/tumble/mobile/internal/jni"
)

// NewPlatform returns the Android platform: JNI calls into the running
// activity through Fyne's driver.RunNative. Call it after the Fyne app was
// created.
func NewPlatform() (Platform, error) {
	var p androidPlatform
	level, err := p.apiLevel()
	if err != nil {
		return nil, err
	}
	p.level = level
	return p, nil
}

type androidPlatform struct {
	level int
}

// run calls fn with the JNI environment of a driver.RunNative callback.
func (androidPlatform) run(fn func(jni.Env) error) error {
	return driver.RunNative(func(ctx any) error {
		ac, ok := ctx.(*driver.AndroidContext)
		if !ok {
			return fmt.Errorf("mobile: RunNative gave %T, not an Android context", ctx)
		}
		env, err := jni.New(ac.Env, ac.Ctx)
		if err != nil {
			return err
		}
		return fn(env)
	})
}

func (p androidPlatform) apiLevel() (int, error) {
	var level int
	err := p.run(func(e jni.Env) (err error) {
		level, err = e.APILevel()
		return err
	})
	return level, err
}

func (p androidPlatform) APILevel() int { return p.level }

func (p androidPlatform) MicrophoneGranted() (bool, error) {
	var ok bool
	err := p.run(func(e jni.Env) (err error) {
		ok, err = e.PermissionGranted(jni.RecordAudio)
		return err
	})
	if errors.Is(err, jni.ErrMissing) {
		return true, nil // before Android 6: granted at install
	}
	return ok, err
}

func (p androidPlatform) ShouldExplainMicrophone() (bool, error) {
	var ok bool
	err := p.run(func(e jni.Env) (err error) {
		ok, err = e.ShouldExplain(jni.RecordAudio)
		return err
	})
	if errors.Is(err, jni.ErrMissing) {
		return false, nil
	}
	return ok, err
}

func (p androidPlatform) RequestMicrophone() error {
	return p.run(func(e jni.Env) error { return e.RequestPermission(jni.RecordAudio) })
}

func (p androidPlatform) OpenAppSettings() error {
	return p.run(func(e jni.Env) error { return e.OpenAppSettings() })
}

func (p androidPlatform) VoiceEffects() (Effects, error) {
	var fx Effects
	err := p.run(func(e jni.Env) error {
		var err error
		if fx.EchoCancel, err = e.EffectAvailable(jni.AcousticEchoCanceler); err != nil {
			return err
		}
		if fx.NoiseSuppress, err = e.EffectAvailable(jni.NoiseSuppressor); err != nil {
			return err
		}
		fx.GainControl, err = e.EffectAvailable(jni.AutomaticGainControl)
		return err
	})
	return fx, err
}

func (p androidPlatform) SetCommunicationMode(on bool) error {
	mode := jni.ModeNormal
	if on {
		mode = jni.ModeInCommunication
	}
	return p.run(func(e jni.Env) error { return e.SetAudioMode(mode) })
}
