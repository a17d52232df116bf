// Stand-in for android.media.AudioManager, for the jni package's test on a desktop JVM.
package android.media;

public class AudioManager {
    public int mode;
    public boolean refuse; // throw as a phone without the permission would

    public void setMode(int mode) {
        if (refuse) {
            throw new SecurityException("MODIFY_AUDIO_SETTINGS not granted");
        }
        this.mode = mode;
    }
}
