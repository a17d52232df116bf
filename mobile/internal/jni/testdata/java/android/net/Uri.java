// Stand-in for android.net.Uri, for the jni package's test on a desktop JVM.
package android.net;

public class Uri {
    public final String text;

    private Uri(String text) { this.text = text; }

    public static Uri fromParts(String scheme, String ssp, String fragment) {
        return new Uri(scheme + ":" + ssp + (fragment == null ? "" : "#" + fragment));
    }

    public String toString() { return text; }
}
