//go:build jnitest && cgo && linux

package jni

// A desktop JVM for this package's test (build tag jnitest): it runs the
// JNI calls against stand-in Android classes (testdata/java), so method
// names, signatures, reference handling and exception handling are
// exercised without a phone. cgo cannot live in _test.go files, hence this
// file; it is never part of an Android build.

/*
#cgo LDFLAGS: -ljvm
#include <jni.h>
#include <stdint.h>
#include <stdlib.h>

static JavaVM *test_vm;

static uintptr_t test_jvm_start(char *classpath_opt) {
	JavaVMOption opts[2];
	opts[0].optionString = classpath_opt;
	opts[1].optionString = "-Xrs";
	JavaVMInitArgs args;
	args.version = JNI_VERSION_1_8;
	args.nOptions = 2;
	args.options = opts;
	args.ignoreUnrecognized = JNI_FALSE;
	JNIEnv *env = NULL;
	if (JNI_CreateJavaVM(&test_vm, (void **)&env, &args) != JNI_OK) {
		return 0;
	}
	return (uintptr_t)env;
}

static uintptr_t test_new(uintptr_t e, const char *cls_name) {
	JNIEnv *env = (JNIEnv *)e;
	jclass cls = (*env)->FindClass(env, cls_name);
	if (cls == NULL) { (*env)->ExceptionClear(env); return 0; }
	jmethodID init = (*env)->GetMethodID(env, cls, "<init>", "()V");
	if (init == NULL) { (*env)->ExceptionClear(env); return 0; }
	jobject obj = (*env)->NewObject(env, cls, init);
	if (obj == NULL) { (*env)->ExceptionClear(env); return 0; }
	jobject g = (*env)->NewGlobalRef(env, obj);
	(*env)->DeleteLocalRef(env, obj);
	(*env)->DeleteLocalRef(env, cls);
	return (uintptr_t)g;
}

static jfieldID test_field(JNIEnv *env, jobject obj, const char *name, const char *sig) {
	jclass cls = (*env)->GetObjectClass(env, obj);
	jfieldID f = (*env)->GetFieldID(env, cls, name, sig);
	(*env)->DeleteLocalRef(env, cls);
	if (f == NULL) (*env)->ExceptionClear(env);
	return f;
}

static int test_int_field(uintptr_t e, uintptr_t o, const char *name) {
	JNIEnv *env = (JNIEnv *)e;
	jfieldID f = test_field(env, (jobject)o, name, "I");
	return f == NULL ? -999 : (*env)->GetIntField(env, (jobject)o, f);
}

static void test_set_bool_field(uintptr_t e, uintptr_t o, const char *name, int v) {
	JNIEnv *env = (JNIEnv *)e;
	jfieldID f = test_field(env, (jobject)o, name, "Z");
	if (f != NULL) (*env)->SetBooleanField(env, (jobject)o, f, v ? JNI_TRUE : JNI_FALSE);
}

static uintptr_t test_object_field(uintptr_t e, uintptr_t o, const char *name, const char *sig) {
	JNIEnv *env = (JNIEnv *)e;
	jfieldID f = test_field(env, (jobject)o, name, sig);
	if (f == NULL) return 0;
	jobject v = (*env)->GetObjectField(env, (jobject)o, f);
	if (v == NULL) return 0;
	jobject g = (*env)->NewGlobalRef(env, v);
	(*env)->DeleteLocalRef(env, v);
	return (uintptr_t)g;
}

// test_string copies a java.lang.String (global ref) into malloc'd UTF-8.
static char *test_string(uintptr_t e, uintptr_t s) {
	JNIEnv *env = (JNIEnv *)e;
	if (s == 0) return NULL;
	const char *utf = (*env)->GetStringUTFChars(env, (jstring)s, NULL);
	if (utf == NULL) { (*env)->ExceptionClear(env); return NULL; }
	size_t n = 0;
	while (utf[n]) n++;
	char *out = malloc(n + 1);
	for (size_t i = 0; i <= n; i++) out[i] = utf[i];
	(*env)->ReleaseStringUTFChars(env, (jstring)s, utf);
	return out;
}

static uintptr_t test_array_elem(uintptr_t e, uintptr_t arr, int i) {
	JNIEnv *env = (JNIEnv *)e;
	if (arr == 0 || i >= (*env)->GetArrayLength(env, (jarray)arr)) return 0;
	jobject v = (*env)->GetObjectArrayElement(env, (jobjectArray)arr, i);
	jobject g = (*env)->NewGlobalRef(env, v);
	(*env)->DeleteLocalRef(env, v);
	return (uintptr_t)g;
}

static int test_array_len(uintptr_t e, uintptr_t arr) {
	JNIEnv *env = (JNIEnv *)e;
	return arr == 0 ? -1 : (*env)->GetArrayLength(env, (jarray)arr);
}

static void test_set_static(uintptr_t e, const char *cls_name, const char *name, const char *sig, int v) {
	JNIEnv *env = (JNIEnv *)e;
	jclass cls = (*env)->FindClass(env, cls_name);
	if (cls == NULL) { (*env)->ExceptionClear(env); return; }
	jfieldID f = (*env)->GetStaticFieldID(env, cls, name, sig);
	if (f == NULL) { (*env)->ExceptionClear(env); return; }
	if (sig[0] == 'Z') (*env)->SetStaticBooleanField(env, cls, f, v ? JNI_TRUE : JNI_FALSE);
	else (*env)->SetStaticIntField(env, cls, f, v);
	(*env)->DeleteLocalRef(env, cls);
}

static int test_pending(uintptr_t e) {
	return (*(JNIEnv *)e)->ExceptionCheck((JNIEnv *)e) ? 1 : 0;
}

static int test_local_capacity(uintptr_t e) {
	// PushLocalFrame succeeds while local references are not leaking badly.
	JNIEnv *env = (JNIEnv *)e;
	if ((*env)->PushLocalFrame(env, 16) != 0) { (*env)->ExceptionClear(env); return 0; }
	(*env)->PopLocalFrame(env, NULL);
	return 1;
}
*/
import "C"

import (
	"errors"
	"unsafe"
)

// testJVM starts a JVM with classpath on the calling OS thread (lock it
// first) and returns that thread's JNIEnv. Only one JVM per process.
func testJVM(classpath string) (uintptr, error) {
	opt := C.CString("-Djava.class.path=" + classpath)
	defer C.free(unsafe.Pointer(opt))
	env := C.test_jvm_start(opt)
	if env == 0 {
		return 0, errors.New("JNI_CreateJavaVM failed")
	}
	return uintptr(env), nil
}

// testNew makes a new object of class (no-argument constructor); a global
// reference, 0 on failure.
func testNew(env uintptr, class string) uintptr {
	cs := C.CString(class)
	defer C.free(unsafe.Pointer(cs))
	return uintptr(C.test_new(C.uintptr_t(env), cs))
}

func testIntField(env, obj uintptr, name string) int {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	return int(C.test_int_field(C.uintptr_t(env), C.uintptr_t(obj), cs))
}

func testSetBoolField(env, obj uintptr, name string, v bool) {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	b := C.int(0)
	if v {
		b = 1
	}
	C.test_set_bool_field(C.uintptr_t(env), C.uintptr_t(obj), cs, b)
}

func testObjectField(env, obj uintptr, name, sig string) uintptr {
	cn, cs := C.CString(name), C.CString(sig)
	defer C.free(unsafe.Pointer(cn))
	defer C.free(unsafe.Pointer(cs))
	return uintptr(C.test_object_field(C.uintptr_t(env), C.uintptr_t(obj), cn, cs))
}

func testString(env, s uintptr) string {
	p := C.test_string(C.uintptr_t(env), C.uintptr_t(s))
	if p == nil {
		return ""
	}
	defer C.free(unsafe.Pointer(p))
	return C.GoString(p)
}

func testArrayLen(env, arr uintptr) int {
	return int(C.test_array_len(C.uintptr_t(env), C.uintptr_t(arr)))
}

func testArrayElem(env, arr uintptr, i int) uintptr {
	return uintptr(C.test_array_elem(C.uintptr_t(env), C.uintptr_t(arr), C.int(i)))
}

func testSetStatic(env uintptr, class, name, sig string, v int) {
	cc, cn, cs := C.CString(class), C.CString(name), C.CString(sig)
	defer C.free(unsafe.Pointer(cc))
	defer C.free(unsafe.Pointer(cn))
	defer C.free(unsafe.Pointer(cs))
	C.test_set_static(C.uintptr_t(env), cc, cn, cs, C.int(v))
}

func testPending(env uintptr) bool { return C.test_pending(C.uintptr_t(env)) != 0 }

func testLocalCapacity(env uintptr) bool { return C.test_local_capacity(C.uintptr_t(env)) != 0 }
