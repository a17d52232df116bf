//go:build (android || jnitest) && cgo

// Package jni makes the few Android framework calls Tumble needs through
// JNI: the API level, the RECORD_AUDIO runtime permission, the app's
// settings page, the availability of the platform's voice effects and the
// audio mode. Each call takes the JNIEnv and activity that Fyne's
// driver.RunNative hands over (driver.AndroidContext's Env and Ctx) and
// must run inside that callback, on its thread.
//
// No Java code is needed: every method called is in the Android framework.
// A Java exception is cleared and returned as an error.
//
// Outside Android the package builds only with the jnitest tag, for its
// test: a desktop JVM with stand-in Android classes (make test-jni).
package jni

/*
#include <jni.h>
#include <stdint.h>
#include <stdlib.h>

#define TUMBLE_ERR (-1)     // a Java exception (cleared) or a failed lookup
#define TUMBLE_MISSING (-2) // the method does not exist on this API level

static JNIEnv *env_of(uintptr_t e) { return (JNIEnv *)e; }

// failed clears a pending Java exception and reports whether there was one.
static int failed(JNIEnv *env) {
	if ((*env)->ExceptionCheck(env)) {
		(*env)->ExceptionClear(env);
		return 1;
	}
	return 0;
}

static int tumble_api_level(uintptr_t e) {
	JNIEnv *env = env_of(e);
	jclass cls = (*env)->FindClass(env, "android/os/Build$VERSION");
	if (cls == NULL || failed(env)) {
		failed(env);
		return TUMBLE_ERR;
	}
	jfieldID f = (*env)->GetStaticFieldID(env, cls, "SDK_INT", "I");
	if (f == NULL || failed(env)) {
		failed(env);
		(*env)->DeleteLocalRef(env, cls);
		return TUMBLE_ERR;
	}
	jint v = (*env)->GetStaticIntField(env, cls, f);
	(*env)->DeleteLocalRef(env, cls);
	return v;
}

// tumble_check_permission: 1 granted, 0 not, TUMBLE_MISSING before API 23
// (permissions granted at install), TUMBLE_ERR on an exception.
static int tumble_check_permission(uintptr_t e, uintptr_t ctx, const char *perm) {
	JNIEnv *env = env_of(e);
	jobject obj = (jobject)ctx;
	jclass cls = (*env)->GetObjectClass(env, obj);
	jmethodID m = (*env)->GetMethodID(env, cls, "checkSelfPermission", "(Ljava/lang/String;)I");
	(*env)->DeleteLocalRef(env, cls);
	if (m == NULL) {
		failed(env);
		return TUMBLE_MISSING;
	}
	jstring s = (*env)->NewStringUTF(env, perm);
	if (s == NULL) {
		failed(env);
		return TUMBLE_ERR;
	}
	jint r = (*env)->CallIntMethod(env, obj, m, s);
	int exc = failed(env);
	(*env)->DeleteLocalRef(env, s);
	if (exc) {
		return TUMBLE_ERR;
	}
	return r == 0 ? 1 : 0; // PackageManager.PERMISSION_GRANTED is 0
}

// tumble_should_explain: Activity.shouldShowRequestPermissionRationale.
static int tumble_should_explain(uintptr_t e, uintptr_t ctx, const char *perm) {
	JNIEnv *env = env_of(e);
	jobject obj = (jobject)ctx;
	jclass cls = (*env)->GetObjectClass(env, obj);
	jmethodID m = (*env)->GetMethodID(env, cls, "shouldShowRequestPermissionRationale", "(Ljava/lang/String;)Z");
	(*env)->DeleteLocalRef(env, cls);
	if (m == NULL) {
		failed(env);
		return TUMBLE_MISSING;
	}
	jstring s = (*env)->NewStringUTF(env, perm);
	if (s == NULL) {
		failed(env);
		return TUMBLE_ERR;
	}
	jboolean r = (*env)->CallBooleanMethod(env, obj, m, s);
	int exc = failed(env);
	(*env)->DeleteLocalRef(env, s);
	if (exc) {
		return TUMBLE_ERR;
	}
	return r ? 1 : 0;
}

// tumble_request_permission: Activity.requestPermissions(new String[]{perm}, code).
static int tumble_request_permission(uintptr_t e, uintptr_t ctx, const char *perm, int code) {
	JNIEnv *env = env_of(e);
	jobject obj = (jobject)ctx;
	jclass cls = (*env)->GetObjectClass(env, obj);
	jmethodID m = (*env)->GetMethodID(env, cls, "requestPermissions", "([Ljava/lang/String;I)V");
	(*env)->DeleteLocalRef(env, cls);
	if (m == NULL) {
		failed(env);
		return TUMBLE_MISSING;
	}
	jclass strCls = (*env)->FindClass(env, "java/lang/String");
	if (strCls == NULL) {
		failed(env);
		return TUMBLE_ERR;
	}
	jstring s = (*env)->NewStringUTF(env, perm);
	jobjectArray arr = s == NULL ? NULL : (*env)->NewObjectArray(env, 1, strCls, s);
	(*env)->DeleteLocalRef(env, strCls);
	if (arr == NULL) {
		failed(env);
		if (s != NULL) {
			(*env)->DeleteLocalRef(env, s);
		}
		return TUMBLE_ERR;
	}
	(*env)->CallVoidMethod(env, obj, m, arr, (jint)code);
	int exc = failed(env);
	(*env)->DeleteLocalRef(env, arr);
	(*env)->DeleteLocalRef(env, s);
	return exc ? TUMBLE_ERR : 0;
}

// tumble_open_app_settings starts
// Intent(ACTION_APPLICATION_DETAILS_SETTINGS, "package:" + getPackageName())
// with FLAG_ACTIVITY_NEW_TASK.
static int tumble_open_app_settings(uintptr_t e, uintptr_t ctx) {
	JNIEnv *env = env_of(e);
	jobject obj = (jobject)ctx;
	int rc = TUMBLE_ERR;
	jclass ctxCls = NULL, uriCls = NULL, intentCls = NULL;
	jstring pkg = NULL, scheme = NULL, action = NULL;
	jobject uri = NULL, intent = NULL;

	ctxCls = (*env)->GetObjectClass(env, obj);
	jmethodID getPackageName = (*env)->GetMethodID(env, ctxCls, "getPackageName", "()Ljava/lang/String;");
	jmethodID startActivity = (*env)->GetMethodID(env, ctxCls, "startActivity", "(Landroid/content/Intent;)V");
	if (getPackageName == NULL || startActivity == NULL) goto out;
	pkg = (jstring)(*env)->CallObjectMethod(env, obj, getPackageName);
	if (pkg == NULL || failed(env)) goto out;

	uriCls = (*env)->FindClass(env, "android/net/Uri");
	if (uriCls == NULL) goto out;
	jmethodID fromParts = (*env)->GetStaticMethodID(env, uriCls, "fromParts",
		"(Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;)Landroid/net/Uri;");
	if (fromParts == NULL) goto out;
	scheme = (*env)->NewStringUTF(env, "package");
	if (scheme == NULL) goto out;
	uri = (*env)->CallStaticObjectMethod(env, uriCls, fromParts, scheme, pkg, NULL);
	if (uri == NULL || failed(env)) goto out;

	intentCls = (*env)->FindClass(env, "android/content/Intent");
	if (intentCls == NULL) goto out;
	jmethodID newIntent = (*env)->GetMethodID(env, intentCls, "<init>", "(Ljava/lang/String;Landroid/net/Uri;)V");
	jmethodID addFlags = (*env)->GetMethodID(env, intentCls, "addFlags", "(I)Landroid/content/Intent;");
	if (newIntent == NULL || addFlags == NULL) goto out;
	action = (*env)->NewStringUTF(env, "android.settings.APPLICATION_DETAILS_SETTINGS");
	if (action == NULL) goto out;
	intent = (*env)->NewObject(env, intentCls, newIntent, action, uri);
	if (intent == NULL || failed(env)) goto out;
	jobject same = (*env)->CallObjectMethod(env, intent, addFlags, (jint)0x10000000); // FLAG_ACTIVITY_NEW_TASK
	if (failed(env)) goto out;
	if (same != NULL) (*env)->DeleteLocalRef(env, same);
	(*env)->CallVoidMethod(env, obj, startActivity, intent);
	if (failed(env)) goto out;
	rc = 0;
out:
	failed(env);
	if (intent != NULL) (*env)->DeleteLocalRef(env, intent);
	if (action != NULL) (*env)->DeleteLocalRef(env, action);
	if (intentCls != NULL) (*env)->DeleteLocalRef(env, intentCls);
	if (uri != NULL) (*env)->DeleteLocalRef(env, uri);
	if (scheme != NULL) (*env)->DeleteLocalRef(env, scheme);
	if (uriCls != NULL) (*env)->DeleteLocalRef(env, uriCls);
	if (pkg != NULL) (*env)->DeleteLocalRef(env, pkg);
	if (ctxCls != NULL) (*env)->DeleteLocalRef(env, ctxCls);
	return rc;
}

// tumble_effect_available calls the static isAvailable() of an
// android.media.audiofx class: 1 available, 0 not, TUMBLE_ERR.
static int tumble_effect_available(uintptr_t e, const char *cls_name) {
	JNIEnv *env = env_of(e);
	jclass cls = (*env)->FindClass(env, cls_name);
	if (cls == NULL) {
		failed(env);
		return 0; // no such effect class: not available
	}
	jmethodID m = (*env)->GetStaticMethodID(env, cls, "isAvailable", "()Z");
	if (m == NULL) {
		failed(env);
		(*env)->DeleteLocalRef(env, cls);
		return 0;
	}
	jboolean r = (*env)->CallStaticBooleanMethod(env, cls, m);
	int exc = failed(env);
	(*env)->DeleteLocalRef(env, cls);
	if (exc) {
		return TUMBLE_ERR;
	}
	return r ? 1 : 0;
}

// tumble_set_audio_mode: ((AudioManager)ctx.getSystemService("audio")).setMode(mode).
static int tumble_set_audio_mode(uintptr_t e, uintptr_t ctx, int mode) {
	JNIEnv *env = env_of(e);
	jobject obj = (jobject)ctx;
	int rc = TUMBLE_ERR;
	jclass ctxCls = (*env)->GetObjectClass(env, obj);
	jmethodID getSystemService = (*env)->GetMethodID(env, ctxCls, "getSystemService", "(Ljava/lang/String;)Ljava/lang/Object;");
	(*env)->DeleteLocalRef(env, ctxCls);
	if (getSystemService == NULL) {
		failed(env);
		return TUMBLE_ERR;
	}
	jstring name = (*env)->NewStringUTF(env, "audio");
	if (name == NULL) {
		failed(env);
		return TUMBLE_ERR;
	}
	jobject am = (*env)->CallObjectMethod(env, obj, getSystemService, name);
	(*env)->DeleteLocalRef(env, name);
	if (am == NULL || failed(env)) {
		failed(env);
		return TUMBLE_ERR;
	}
	jclass amCls = (*env)->GetObjectClass(env, am);
	jmethodID setMode = (*env)->GetMethodID(env, amCls, "setMode", "(I)V");
	(*env)->DeleteLocalRef(env, amCls);
	if (setMode != NULL) {
		(*env)->CallVoidMethod(env, am, setMode, (jint)mode);
		rc = failed(env) ? TUMBLE_ERR : 0;
	}
	failed(env);
	(*env)->DeleteLocalRef(env, am);
	return rc;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// Result codes of the C helpers.
const (
	errJava    = C.TUMBLE_ERR
	errMissing = C.TUMBLE_MISSING
)

// ErrMissing reports a framework method that this API level does not have.
var ErrMissing = errors.New("jni: method not available on this Android version")

// RecordAudio is the microphone permission.
const RecordAudio = "android.permission.RECORD_AUDIO"

// Audio modes of android.media.AudioManager.
const (
	ModeNormal          = 0
	ModeInCommunication = 3
)

// Audio effect classes whose isAvailable Effect asks.
const (
	AcousticEchoCanceler = "android/media/audiofx/AcousticEchoCanceler"
	NoiseSuppressor      = "android/media/audiofx/NoiseSuppressor"
	AutomaticGainControl = "android/media/audiofx/AutomaticGainControl"
)

// permissionRequestCode identifies Tumble's permission request to the
// activity (Fyne's activity does not read the answer; Tumble checks the
// permission again instead).
const permissionRequestCode = 0x7401

// Env is a JNI environment and the activity, valid inside one
// driver.RunNative callback.
type Env struct {
	env, ctx C.uintptr_t
}

// New wraps driver.AndroidContext's Env and Ctx.
func New(env, ctx uintptr) (Env, error) {
	if env == 0 || ctx == 0 {
		return Env{}, errors.New("jni: no JNI environment or activity")
	}
	return Env{env: C.uintptr_t(env), ctx: C.uintptr_t(ctx)}, nil
}

func result(what string, rc C.int) (int, error) {
	switch rc {
	case errJava:
		return 0, fmt.Errorf("jni: %s failed (Java exception)", what)
	case errMissing:
		return 0, fmt.Errorf("jni: %s: %w", what, ErrMissing)
	}
	return int(rc), nil
}

// APILevel returns Build.VERSION.SDK_INT.
func (e Env) APILevel() (int, error) {
	return result("Build.VERSION.SDK_INT", C.tumble_api_level(e.env))
}

// PermissionGranted is Context.checkSelfPermission(perm) ==
// PERMISSION_GRANTED; ErrMissing before API 23.
func (e Env) PermissionGranted(perm string) (bool, error) {
	cs := C.CString(perm)
	defer C.free(unsafe.Pointer(cs))
	v, err := result("checkSelfPermission", C.tumble_check_permission(e.env, e.ctx, cs))
	return v == 1, err
}

// ShouldExplain is Activity.shouldShowRequestPermissionRationale(perm).
func (e Env) ShouldExplain(perm string) (bool, error) {
	cs := C.CString(perm)
	defer C.free(unsafe.Pointer(cs))
	v, err := result("shouldShowRequestPermissionRationale", C.tumble_should_explain(e.env, e.ctx, cs))
	return v == 1, err
}

// RequestPermission is Activity.requestPermissions({perm}, code).
func (e Env) RequestPermission(perm string) error {
	cs := C.CString(perm)
	defer C.free(unsafe.Pointer(cs))
	_, err := result("requestPermissions", C.tumble_request_permission(e.env, e.ctx, cs, permissionRequestCode))
	return err
}

// OpenAppSettings opens the system's settings page of this app.
func (e Env) OpenAppSettings() error {
	_, err := result("open application settings", C.tumble_open_app_settings(e.env, e.ctx))
	return err
}

// EffectAvailable calls the static isAvailable() of an audio effect class
// such as AcousticEchoCanceler. A class the system lacks is unavailable.
func (e Env) EffectAvailable(class string) (bool, error) {
	cs := C.CString(class)
	defer C.free(unsafe.Pointer(cs))
	v, err := result(class+".isAvailable", C.tumble_effect_available(e.env, cs))
	return v == 1, err
}

// SetAudioMode is AudioManager.setMode(mode).
func (e Env) SetAudioMode(mode int) error {
	_, err := result("AudioManager.setMode", C.tumble_set_audio_mode(e.env, e.ctx, C.int(mode)))
	return err
}
