package fynepatchtest

import (
	"bufio"
	"bytes"
	"debug/elf"
	"debug/gosym"
	"encoding/binary"
	"errors"
	"fmt"
	"image/color"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"
)

// childEnv marks the test binary re-run as the Fyne program under test:
// Fyne's window driver must own the process's main thread, which only
// TestMain has.
const childEnv = "FYNEPATCHTEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		runChild()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var (
	black = color.NRGBA{A: 0xff}
	blue  = color.NRGBA{B: 0xff, A: 0xff}
	red   = color.NRGBA{R: 0xff, A: 0xff}
)

// panel fills the window; a tap on it fades it from blue to red.
type panel struct {
	widget.BaseWidget
	rect *canvas.Rectangle
}

func newPanel() *panel {
	p := &panel{rect: canvas.NewRectangle(black)}
	p.ExtendBaseWidget(p)
	return p
}

func (p *panel) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(p.rect) }

func (p *panel) setColour(c color.Color) {
	p.rect.FillColor = c
	p.rect.Refresh()
}

func (p *panel) Tapped(*fyne.PointEvent) {
	fmt.Println("tapped")
	anim := canvas.NewColorRGBAAnimation(blue, red, 300*time.Millisecond, p.setColour)
	anim.Start()
}

// runChild is the program under test. It says on stdout what it has done and
// quits when its stdin is closed.
func runChild() {
	a := app.NewWithID("cn.fengqiao.fynepatchtest")
	w := a.NewWindow("fynepatchtest")
	p := newPanel()
	w.SetContent(p)
	w.SetFullScreen(true)
	started := make(chan struct{})
	a.Lifecycle().SetOnStarted(func() { close(started) })
	go func() {
		<-started
		time.Sleep(2 * time.Second) // long past the 30 quiet frames after which the loop waits
		fyne.DoAndWait(func() { p.setColour(blue) })
		fmt.Println("blue")
	}()
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		fyne.Do(a.Quit)
	}()
	w.ShowAndRun()
}

// patchedSymbols are functions that only the patched loop has
// (third_party/fyne/PATCH). Neither can be inlined away: postEmptyEvent
// recovers, and waitForEvents is too big.
var patchedSymbols = []string{
	"fyne.io/fyne/v2/internal/driver/glfw.(*gLDriver).waitForEvents",
	"fyne.io/fyne/v2/internal/driver/glfw.postEmptyEvent",
}

// TestPatchInForce fails when this binary was built with Fyne's own loop:
// the other test would pass against it too, since that loop never stops
// ticking. It looks for the patch's code in the binary itself, so it holds
// however the binary was built (go test, -trimpath, another go.mod).
func TestPatchInForce(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("finding this test binary: %v", err)
	}
	have, err := funcNames(exe)
	if err != nil {
		t.Fatalf("listing the functions of %s: %v", exe, err)
	}
	file, _ := runtime.FuncForPC(reflect.ValueOf(app.NewWithID).Pointer()).FileLine(0)
	for _, sym := range patchedSymbols {
		if !have[sym] {
			t.Errorf("Fyne is not patched: this binary has no %s (Fyne compiled from %s; go.mod should replace fyne.io/fyne/v2 with ./third_party/fyne)", sym, filepath.Dir(filepath.Dir(file)))
		}
	}
}

// funcNames lists the functions of the Go binary at path from its pclntab,
// which go test keeps where it strips the symbol table.
func funcNames(path string) (map[string]bool, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pcln, text := f.Section(".gopclntab"), f.Section(".text")
	if pcln == nil || text == nil {
		return nil, errors.New("no .gopclntab or .text section")
	}
	data, err := pcln.Data()
	if err != nil {
		return nil, fmt.Errorf("reading .gopclntab: %w", err)
	}
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(data, text.Addr))
	if err != nil {
		return nil, fmt.Errorf("decoding .gopclntab: %w", err)
	}
	have := make(map[string]bool, len(tab.Funcs))
	for _, fn := range tab.Funcs {
		have[fn.Name] = true
	}
	return have, nil
}

// TestIdleLoopWakes runs the program with no bound on the loop's wait
// (FENGQIAO_FYNE_IDLE_WAIT=1h), so that anything the patch forgot to wake
// the loop for would hang here instead of showing up a second late.
func TestIdleLoopWakes(t *testing.T) {
	if testing.Short() {
		t.Skip("-short leaves out the idle loop timed in a real window under Xvfb (about 25 s); TestPatchInForce still runs; make test runs it")
	}
	display := mustXvfb(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", "DISPLAY="+display, "FENGQIAO_FYNE_IDLE_WAIT=1h")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("program's stderr:\n%s", stderr.String())
		}
	})
	lines := make(chan string, 16)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()

	mustSay(t, lines, "blue", 60*time.Second)
	mustShow(t, display, blue, "a fyne.Do from another goroutine woke the idle loop")

	time.Sleep(2 * time.Second) // idle again
	click := exec.Command("xdotool", "mousemove", "--sync", "320", "240", "click", "1")
	click.Env = append(os.Environ(), "DISPLAY="+display)
	if out, err := click.CombinedOutput(); err != nil {
		t.Fatalf("xdotool: %v\n%s", err, out)
	}
	mustSay(t, lines, "tapped", 30*time.Second)
	mustShow(t, display, red, "a tap woke the idle loop and its animation ran to the end")

	_ = stdin.Close()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("program did not quit cleanly: %v", err)
		}
		exited <- nil // for the clean-up
	case <-time.After(30 * time.Second):
		t.Fatal("program did not quit after fyne.Do(a.Quit) on an idle loop")
	}
}

func mustSay(t *testing.T, lines <-chan string, want string, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("program exited before saying %q", want)
			}
			if l == want {
				return
			}
		case <-deadline:
			t.Fatalf("program did not say %q within %v", want, within)
		}
	}
}

// mustShow waits until the middle of the screen has colour c.
func mustShow(t *testing.T, display string, c color.NRGBA, what string) {
	t.Helper()
	var last color.NRGBA
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		got, err := screenPixel(display, 320, 240)
		if err != nil {
			t.Fatal(err)
		}
		if near(got, c) {
			return
		}
		last = got
	}
	t.Fatalf("expected that %s: the screen shows %v, not %v", what, last, c)
}

func near(a, b color.NRGBA) bool {
	d := func(x, y uint8) bool { return x-y < 16 || y-x < 16 }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B)
}

// mustXvfb starts a private X server and returns its display name.
func mustXvfb(t *testing.T) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	x := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "640x480x24", "-nolisten", "tcp")
	x.ExtraFiles = []*os.File{w}
	if err := x.Start(); err != nil {
		t.Fatalf("Xvfb (make deps installs it): %v", err)
	}
	_ = w.Close()
	t.Cleanup(func() {
		_ = x.Process.Kill()
		_ = x.Wait()
	})
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		got <- strings.TrimSpace(line)
		_ = r.Close()
	}()
	select {
	case n := <-got:
		if _, err := strconv.Atoi(n); err != nil {
			t.Fatalf("Xvfb gave no display number (%q)", n)
		}
		return ":" + n
	case <-time.After(30 * time.Second):
		t.Fatal("Xvfb did not start")
	}
	return ""
}

// screenPixel reads one pixel of the root window through xwd.
func screenPixel(display string, x, y int) (color.NRGBA, error) {
	cmd := exec.Command("xwd", "-root", "-silent", "-display", display)
	out, err := cmd.Output()
	if err != nil {
		return color.NRGBA{}, fmt.Errorf("xwd (make deps installs x11-apps): %w", err)
	}
	return xwdPixel(out, x, y)
}

// xwdPixel decodes the pixel at x, y of an XWD (X Window Dump, version 7)
// image of a TrueColor screen.
func xwdPixel(b []byte, x, y int) (color.NRGBA, error) {
	const fields = 25
	if len(b) < fields*4 {
		return color.NRGBA{}, errors.New("xwd: short header")
	}
	h := make([]uint32, fields)
	for i := range h {
		h[i] = binary.BigEndian.Uint32(b[i*4:])
	}
	headerSize, version, width, height := h[0], h[1], h[4], h[5]
	byteOrder, bitsPerPixel, bytesPerLine := h[7], h[11], h[12]
	redMask, greenMask, blueMask, ncolors := h[14], h[15], h[16], h[19]
	if version != 7 || bitsPerPixel != 32 {
		return color.NRGBA{}, fmt.Errorf("xwd: version %d, %d bits per pixel; want 7 and 32", version, bitsPerPixel)
	}
	if uint32(x) >= width || uint32(y) >= height {
		return color.NRGBA{}, fmt.Errorf("xwd: %d,%d outside %dx%d", x, y, width, height)
	}
	off := int(headerSize) + int(ncolors)*12 + y*int(bytesPerLine) + x*4
	if off+4 > len(b) {
		return color.NRGBA{}, errors.New("xwd: short pixel data")
	}
	var v uint32
	if byteOrder == 0 {
		v = binary.LittleEndian.Uint32(b[off:])
	} else {
		v = binary.BigEndian.Uint32(b[off:])
	}
	channel := func(mask uint32) uint8 {
		if mask == 0 {
			return 0
		}
		shift := 0
		for mask&1 == 0 {
			mask >>= 1
			shift++
		}
		return uint8((v >> shift) & mask * 255 / mask)
	}
	return color.NRGBA{R: channel(redMask), G: channel(greenMask), B: channel(blueMask), A: 0xff}, nil
}
