// Stand-in for android.media.audiofx.AutomaticGainControl, for the jni package's test on a desktop JVM.
package android.media.audiofx;

public class AutomaticGainControl {
    public static boolean available;

    public static boolean isAvailable() { return available; }
}
