// Stand-in for android.os.Build, for the jni package's test on a desktop JVM.
package android.os;

public class Build {
    public static class VERSION {
        public static int SDK_INT = 34;
    }
}
