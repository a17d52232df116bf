// Stand-in for an Activity before Android 6 (API 23): no runtime
// permission methods, for the jni package's test on a desktop JVM.
package android.app;

public class OldActivity {
    public String getPackageName() { return "io.github.tumble_voip.tumble"; }
}
