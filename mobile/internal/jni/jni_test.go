//go:build jnitest && cgo && linux

package jni

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// TestCalls runs every call against the stand-in Android classes in a
// desktop JVM. A JNIEnv belongs to one OS thread, so everything happens in
// this one goroutine, locked to its thread (no subtests).
func TestCalls(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	classes := compileStandIns(t)
	env, err := testJVM(classes)
	if err != nil {
		t.Fatal(err)
	}
	act := testNew(env, "android/app/Activity")
	if act == 0 {
		t.Fatal("cannot create the stand-in Activity")
	}
	e, err := New(env, act)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(0, act); err == nil {
		t.Error("New without an environment succeeded")
	}

	// API level.
	if lvl, err := e.APILevel(); err != nil || lvl != 34 {
		t.Errorf("APILevel = %d, %v; want 34", lvl, err)
	}
	testSetStatic(env, "android/os/Build$VERSION", "SDK_INT", "I", 28)
	if lvl, _ := e.APILevel(); lvl != 28 {
		t.Errorf("APILevel after the change = %d, want 28", lvl)
	}

	// Permission check and rationale.
	if ok, err := e.PermissionGranted(RecordAudio); err != nil || ok {
		t.Errorf("PermissionGranted = %v, %v; want false", ok, err)
	}
	testSetBoolField(env, act, "granted", true)
	if ok, err := e.PermissionGranted(RecordAudio); err != nil || !ok {
		t.Errorf("PermissionGranted = %v, %v; want true", ok, err)
	}
	if ok, err := e.ShouldExplain(RecordAudio); err != nil || ok {
		t.Errorf("ShouldExplain = %v, %v; want false", ok, err)
	}
	testSetBoolField(env, act, "explain", true)
	if ok, err := e.ShouldExplain(RecordAudio); err != nil || !ok {
		t.Errorf("ShouldExplain = %v, %v; want true", ok, err)
	}
	// A Java exception becomes an error and is cleared.
	if _, err := e.PermissionGranted("android.permission.CAMERA"); err == nil {
		t.Error("an exception in checkSelfPermission was not reported")
	}
	if testPending(env) {
		t.Fatal("a Java exception was left pending")
	}

	// The request passes one permission and Tumble's request code.
	if err := e.RequestPermission(RecordAudio); err != nil {
		t.Fatal(err)
	}
	arr := testObjectField(env, act, "requested", "[Ljava/lang/String;")
	if n := testArrayLen(env, arr); n != 1 {
		t.Fatalf("requestPermissions got %d permissions", n)
	}
	if got := testString(env, testArrayElem(env, arr, 0)); got != RecordAudio {
		t.Errorf("requested %q", got)
	}
	if code := testIntField(env, act, "requestCode"); code != permissionRequestCode {
		t.Errorf("request code %#x", code)
	}

	// The settings page: the right action, package URI and new-task flag.
	if err := e.OpenAppSettings(); err != nil {
		t.Fatal(err)
	}
	intent := testObjectField(env, act, "started", "Landroid/content/Intent;")
	if intent == 0 {
		t.Fatal("no activity started")
	}
	if got := testString(env, testObjectField(env, intent, "action", "Ljava/lang/String;")); got != "android.settings.APPLICATION_DETAILS_SETTINGS" {
		t.Errorf("intent action %q", got)
	}
	uri := testObjectField(env, intent, "data", "Landroid/net/Uri;")
	if got := testString(env, testObjectField(env, uri, "text", "Ljava/lang/String;")); got != "package:io.github.tumble_voip.tumble" {
		t.Errorf("intent data %q", got)
	}
	if f := testIntField(env, intent, "flags"); f&0x10000000 == 0 {
		t.Errorf("intent flags %#x lack FLAG_ACTIVITY_NEW_TASK", f)
	}

	// Effects.
	for _, c := range []string{AcousticEchoCanceler, NoiseSuppressor, AutomaticGainControl} {
		if ok, err := e.EffectAvailable(c); err != nil || ok {
			t.Errorf("%s available = %v, %v; want false", c, ok, err)
		}
		testSetStatic(env, c, "available", "Z", 1)
		if ok, err := e.EffectAvailable(c); err != nil || !ok {
			t.Errorf("%s available = %v, %v; want true", c, ok, err)
		}
	}
	if ok, err := e.EffectAvailable("android/media/audiofx/NoSuchEffect"); err != nil || ok {
		t.Errorf("missing effect class: %v, %v; want false, nil", ok, err)
	}
	if testPending(env) {
		t.Fatal("a Java exception was left pending")
	}

	// Audio mode, and a refusal.
	if err := e.SetAudioMode(ModeInCommunication); err != nil {
		t.Fatal(err)
	}
	audio := testObjectField(env, act, "audio", "Landroid/media/AudioManager;")
	if m := testIntField(env, audio, "mode"); m != ModeInCommunication {
		t.Errorf("audio mode %d, want %d", m, ModeInCommunication)
	}
	testSetBoolField(env, audio, "refuse", true)
	if err := e.SetAudioMode(ModeNormal); err == nil {
		t.Error("a SecurityException in setMode was not reported")
	}
	if testPending(env) {
		t.Fatal("a Java exception was left pending")
	}

	// Before Android 6 the permission methods do not exist.
	old := testNew(env, "android/app/OldActivity")
	oe, err := New(env, old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oe.PermissionGranted(RecordAudio); !errors.Is(err, ErrMissing) {
		t.Errorf("old PermissionGranted error %v, want ErrMissing", err)
	}
	if _, err := oe.ShouldExplain(RecordAudio); !errors.Is(err, ErrMissing) {
		t.Errorf("old ShouldExplain error %v, want ErrMissing", err)
	}
	if err := oe.RequestPermission(RecordAudio); !errors.Is(err, ErrMissing) {
		t.Errorf("old RequestPermission error %v, want ErrMissing", err)
	}
	if err := oe.SetAudioMode(ModeNormal); err == nil {
		t.Error("setMode on an activity without getSystemService succeeded")
	}
	if testPending(env) {
		t.Fatal("a Java exception was left pending")
	}

	// Many calls do not leak local references (the JVM would run out).
	for i := 0; i < 20000; i++ {
		if _, err := e.PermissionGranted(RecordAudio); err != nil {
			t.Fatal(err)
		}
		if err := e.OpenAppSettings(); err != nil {
			t.Fatal(err)
		}
	}
	if !testLocalCapacity(env) {
		t.Error("local reference table exhausted")
	}
}

// compileStandIns compiles testdata/java with javac into a temporary
// class directory.
func compileStandIns(t *testing.T) string {
	t.Helper()
	javac, err := exec.LookPath("javac")
	if err != nil {
		t.Fatalf("javac is needed for the stand-in Android classes: %v", err)
	}
	var srcs []string
	filepath.WalkDir("testdata/java", func(p string, d os.DirEntry, err error) error {
		if err == nil && filepath.Ext(p) == ".java" {
			srcs = append(srcs, p)
		}
		return err
	})
	out := t.TempDir()
	cmd := exec.Command(javac, append([]string{"-d", out}, srcs...)...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, msg)
	}
	return out
}
