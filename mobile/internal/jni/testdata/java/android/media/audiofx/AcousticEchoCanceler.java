// Stand-in for android.media.audiofx.AcousticEchoCanceler, for the jni package's test on a desktop JVM.
package android.media.audiofx;

public class AcousticEchoCanceler {
    public static boolean available;

    public static boolean isAvailable() { return available; }
}
