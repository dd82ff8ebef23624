package speech_test

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/speech"
)

const prompt = "你好，请选择服务"

func mustEspeak(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("espeak-ng")
	if err != nil {
		t.Fatal("espeak-ng is not installed; make deps installs it (apt-get install espeak-ng)")
	}
	return path
}

// TestVoiceReadsHanziAsMandarin pins the finding in the package doc: the
// default voice turns hanzi into Mandarin phonemes with tones, never into
// English letters ("(en)" marks espeak-ng switching language).
func TestVoiceReadsHanziAsMandarin(t *testing.T) {
	bin := mustEspeak(t)
	phonemes := func(voice string) string {
		cmd := exec.Command(bin, "-q", "-x", "-v", voice, "--stdin")
		cmd.Stdin = strings.NewReader(prompt)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("espeak-ng -v %s: %v", voice, err)
		}
		return string(out)
	}
	got := phonemes(speech.DefaultVoice)
	if strings.Contains(got, "(en)") || !strings.Contains(got, "n'i35") || !strings.Contains(got, "X'Au214") {
		t.Errorf("voice %s reads %s as %q; want Mandarin phonemes (n'i35 X'Au214 ...)", speech.DefaultVoice, prompt, got)
	}
	t.Logf("-v %s: %s", speech.DefaultVoice, strings.TrimSpace(got))
	t.Logf("-v cmn:  %s", strings.TrimSpace(phonemes("cmn")))
}

// TestSynthesizeChineseWAV runs the real espeak-ng into a WAV file and
// checks that Chinese text becomes about a second of audible sound.
func TestSynthesizeChineseWAV(t *testing.T) {
	mustEspeak(t)
	ctx := context.Background()
	e := speech.New(ctx, speech.Options{})
	if st := e.Status(); st.State != apitype.DeviceReady {
		t.Fatalf("status = %+v", st)
	}
	wav := filepath.Join(t.TempDir(), "prompt.wav")
	if err := e.Synthesize(ctx, prompt, wav); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(wav)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 44 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		t.Fatalf("%s is not a WAV file (%d bytes)", wav, len(data))
	}
	channels := binary.LittleEndian.Uint16(data[22:24])
	rate := binary.LittleEndian.Uint32(data[24:28])
	bits := binary.LittleEndian.Uint16(data[34:36])
	samples := data[44:]
	seconds := float64(len(samples)) / float64(rate*uint32(channels)*uint32(bits/8))
	var loud int
	for i := 0; i+1 < len(samples); i += 2 {
		if v := int16(binary.LittleEndian.Uint16(samples[i:])); v > 3000 || v < -3000 {
			loud++
		}
	}
	t.Logf("%s: %d Hz, %d bit, %d channel, %.2f s, %d loud samples", prompt, rate, bits, channels, seconds, loud)
	// Eight syllables at 140 words per minute take well over a second.
	if bits != 16 || seconds < 1 || loud < 1000 {
		t.Errorf("audio: %d bit, %.2f s, %d loud samples; want 16-bit speech of at least 1 s", bits, seconds, loud)
	}
}

// mustScript writes a stand-in for espeak-ng: a probe (-q) exits at once;
// otherwise it records its pid and stdin in dir and runs body.
func mustScript(t *testing.T, dir, body string) string {
	t.Helper()
	path := filepath.Join(dir, "fake-espeak")
	script := "#!/bin/sh\nfor a in \"$@\"; do [ \"$a\" = -q ] && exit 0; done\n" +
		"cat > \"" + dir + "/$$.txt\"\n" + body + "\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestStatus(t *testing.T) {
	dir := t.TempDir()
	failing := filepath.Join(dir, "failing")
	if err := os.WriteFile(failing, []byte("#!/bin/sh\necho 'Error: The specified espeak-ng voice does not exist.' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		binary string
		state  string
		err    error
	}{
		{"not installed", "no-such-espeak-ng", apitype.DeviceAbsent, speech.ErrAbsent},
		{"installed", mustEspeak(t), apitype.DeviceReady, nil},
		{"voice missing", failing, apitype.DeviceFailed, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := speech.New(context.Background(), speech.Options{Binary: tt.binary})
			defer e.Close()
			if st := e.Status(); st.State != tt.state || (tt.state == apitype.DeviceFailed) != (st.LastError != "") {
				t.Errorf("status = %+v, want %s", st, tt.state)
			}
			if tt.err != nil {
				if err := e.Speak(prompt); !errors.Is(err, tt.err) {
					t.Errorf("Speak = %v, want %v", err, tt.err)
				}
			}
		})
	}
}

func TestSpeakRefusesLongText(t *testing.T) {
	e := speech.New(context.Background(), speech.Options{Binary: mustScript(t, t.TempDir(), "")})
	if err := e.Speak(strings.Repeat("好", speech.MaxRunes+1)); !errors.Is(err, speech.ErrTooLong) {
		t.Errorf("Speak = %v, want ErrTooLong", err)
	}
}

// TestNewUtteranceCutsOffTheLast: the first utterance's process is killed
// before the second starts, and Speak does not wait for speech to end.
func TestNewUtteranceCutsOffTheLast(t *testing.T) {
	dir := t.TempDir()
	e := speech.New(context.Background(), speech.Options{Binary: mustScript(t, dir, "exec sleep 30")})
	defer e.Close()
	for i, text := range []string{"第一句", "-v 第二句"} {
		start := time.Now()
		if err := e.Speak(text); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Speak took %s; it must not wait for speech", d)
		}
		// Let it get going: one killed before it read its text proves nothing.
		mustWaitRecords(t, dir, i+1)
	}
	pids := mustWaitRecords(t, dir, 2)
	alive := 0
	for pid, text := range pids {
		if exec.Command("kill", "-0", pid).Run() == nil {
			alive++
			if text != "-v 第二句" {
				t.Errorf("still speaking %q", text)
			}
		}
	}
	if alive != 1 {
		t.Errorf("%d utterances running, want 1", alive)
	}
	e.Close()
	for pid := range pids {
		if exec.Command("kill", "-0", pid).Run() == nil {
			t.Errorf("pid %s outlived Close", pid)
		}
	}
	if err := e.Speak("x"); !errors.Is(err, speech.ErrClosed) {
		t.Errorf("Speak after Close = %v", err)
	}
}

// mustWaitRecords waits for n fake-espeak runs to record pid → stdin.
func mustWaitRecords(t *testing.T, dir string, n int) map[string]string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		files, _ := filepath.Glob(filepath.Join(dir, "*.txt"))
		got := map[string]string{}
		for _, f := range files {
			b, _ := os.ReadFile(f)
			got[strings.TrimSuffix(filepath.Base(f), ".txt")] = string(b)
		}
		if len(got) == n && !strings.Contains(strings.Join(mapValues(got), ""), "\x00") && allNonEmpty(got) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("fake espeak-ng runs: %v, want %d", got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func allNonEmpty(m map[string]string) bool {
	for _, v := range m {
		if v == "" {
			return false
		}
	}
	return true
}

// TestSilentFailureIsReported: with no sound card espeak-ng exits 0 and
// says so only on stderr; the device must then show failed.
func TestSilentFailureIsReported(t *testing.T) {
	dir := t.TempDir()
	e := speech.New(context.Background(), speech.Options{Binary: mustScript(t, dir,
		"echo 'ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM default' >&2\necho 'error: No such file or directory' >&2\nexit 0")})
	defer e.Close()
	if err := e.Speak(prompt); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.Status().State != apitype.DeviceFailed {
		if time.Now().After(deadline) {
			t.Fatalf("status = %+v, want failed", e.Status())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st := e.Status(); !strings.Contains(st.LastError, "No such file") {
		t.Errorf("last error = %q", st.LastError)
	}
}
