// Stand-in for the parts of android.app.Activity (and Context) that the jni
// package calls, for its test on a desktop JVM. Fields record the calls.
package android.app;

import android.content.Intent;
import android.media.AudioManager;

public class Activity {
    public boolean granted;
    public boolean explain;
    public String[] requested;
    public int requestCode;
    public Intent started;
    public AudioManager audio = new AudioManager();

    public int checkSelfPermission(String permission) {
        if (!permission.equals("android.permission.RECORD_AUDIO")) {
            throw new IllegalArgumentException("unexpected permission " + permission);
        }
        return granted ? 0 : -1; // PERMISSION_GRANTED, PERMISSION_DENIED
    }

    public boolean shouldShowRequestPermissionRationale(String permission) {
        return explain;
    }

    public void requestPermissions(String[] permissions, int requestCode) {
        this.requested = permissions;
        this.requestCode = requestCode;
    }

    public String getPackageName() { return "io.github.tumble_voip.tumble"; }

    public void startActivity(Intent intent) { this.started = intent; }

    public Object getSystemService(String name) {
        return name.equals("audio") ? audio : null;
    }
}
