// Stand-in for android.media.audiofx.NoiseSuppressor, for the jni package's test on a desktop JVM.
package android.media.audiofx;

public class NoiseSuppressor {
    public static boolean available;

    public static boolean isAvailable() { return available; }
}
