// Stand-in for android.content.Intent, for the jni package's test on a desktop JVM.
package android.content;

import android.net.Uri;

public class Intent {
    public final String action;
    public final Uri data;
    public int flags;

    public Intent(String action, Uri data) {
        this.action = action;
        this.data = data;
    }

    public Intent addFlags(int f) {
        flags |= f;
        return this;
    }
}
