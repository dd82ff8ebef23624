package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"
	"golang.org/x/sys/unix"

	"github.com/fengqiao/kiosk/agent/config"
	"github.com/fengqiao/kiosk/agent/localapi/apitype"
	"github.com/fengqiao/kiosk/agent/localclient"
	"github.com/fengqiao/kiosk/agent/updater"
)

// Levels of a doctor finding. Only fail makes the exit status non-zero: a
// warning is worth a look but the kiosk works.
const (
	levelOK   = "ok"
	levelWarn = "warn"
	levelFail = "FAIL"
)

type finding struct {
	level, item, detail string
}

// doctorEnv is what the checks look at; tests point it at fakes.
type doctorEnv struct {
	site, data, socket string
	watchdog, rtc      string // device paths
	gpioGlob           string
	now                func() time.Time
	// clockSynced reports whether the kernel's clock is disciplined by NTP.
	clockSynced func() (bool, error)
	// clockFloor is a time the clock cannot honestly be before: this
	// program's own build (the package's file dates are the commit's).
	clockFloor time.Time
	// updaterReport is fengqiao-updater's reported.json; "" skips it.
	updaterReport string
}

func doctorCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kioskctl doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := doctorEnv{watchdog: "/dev/watchdog", rtc: "/dev/rtc0", gpioGlob: "/dev/gpiochip*", now: time.Now, clockSynced: kernelClockSynced}
	fs.StringVar(&env.site, "site", defaultSite, "the kiosk's site `file`")
	fs.StringVar(&env.data, "data", "/var/lib/fengqiao", "kioskd's data `dir`")
	fs.StringVar(&env.socket, "socket", defaultSocket, "kioskd's local API socket `path`")
	fs.StringVar(&env.updaterReport, "updater-report", "/var/lib/fengqiao-updater/reported.json", "fengqiao-updater's report `file`")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if exe, err := os.Executable(); err == nil {
		if fi, err := os.Stat(exe); err == nil {
			env.clockFloor = fi.ModTime()
		}
	}
	findings, header := env.run(ctx)
	fmt.Fprintln(stdout, header)
	fails, warns := 0, 0
	for _, f := range findings {
		fmt.Fprintf(stdout, "%-5s %-18s %s\n", f.level, f.item, f.detail)
		switch f.level {
		case levelFail:
			fails++
		case levelWarn:
			warns++
		}
	}
	fmt.Fprintf(stdout, "%d problems, %d warnings\n", fails, warns)
	if fails > 0 {
		return 1
	}
	return 0
}

// run checks the kiosk line by line: its configuration, kioskd, each device
// of the board profile, the clock, the disk, the township broker and the
// certificates.
func (e doctorEnv) run(ctx context.Context) ([]finding, string) {
	var out []finding
	add := func(level, item, format string, args ...any) {
		out = append(out, finding{level, item, fmt.Sprintf(format, args...)})
	}
	cfg, err := config.Load(e.site)
	var board *config.Board
	header := "kioskctl doctor: " + e.site
	if err != nil {
		var cerr *config.Error
		if errors.As(err, &cerr) {
			for _, p := range cerr.Problems {
				add(levelFail, "config", "%s", p)
			}
		} else {
			add(levelFail, "config", "%v", err)
		}
		board, _ = config.LoadSiteBoard(e.site) // the devices can still be checked
	} else {
		board = &cfg.Board
		add(levelOK, "config", "valid: kiosk %s of village %s, township %s (%s)", cfg.Site.Kiosk.ID, cfg.Site.Kiosk.Village, cfg.Site.Kiosk.Township, cfg.Site.Mode)
	}
	if board != nil {
		header += fmt.Sprintf(", board %s (%s)", board.Name, board.Description)
	}

	st, devs, apiErr := e.kioskd(ctx)
	if apiErr != nil {
		add(levelFail, "kioskd", "not answering on %s: %v (systemctl status fengqiao-kioskd; journalctl -u fengqiao-kioskd; another socket: --socket PATH)", e.socket, apiErr)
	} else {
		add(levelOK, "kioskd", "running %s: township link %s, %d records waiting, %d set aside", st.Version, st.Broker.State, st.Queue.Depth, st.Queue.DeadLetters)
	}

	if board != nil {
		out = append(out, e.devices(board, st, devs, apiErr == nil)...)
	}
	out = append(out, e.clock()...)
	if _, err := os.Stat(e.watchdog); err == nil {
		add(levelOK, "watchdog", "%s present: systemd resets a hung board", e.watchdog)
	} else {
		add(levelWarn, "watchdog", "no %s: a hung board will not reset itself (firmware-configs/bringup: dtparam=watchdog=on)", e.watchdog)
	}
	if cfg != nil {
		out = append(out, e.disk(int64(cfg.Site.Storage.Quota))...)
		out = append(out, e.broker(ctx, cfg)...)
		out = append(out, e.certificates(cfg)...)
	}
	out = append(out, e.updater()...)
	return out, header
}

// updater: the last software update, as fengqiao-updater reported it. A
// rollback or refusal is a warning: the kiosk works, on its old version.
func (e doctorEnv) updater() []finding {
	if e.updaterReport == "" {
		return nil
	}
	data, err := os.ReadFile(e.updaterReport)
	if errors.Is(err, os.ErrNotExist) {
		return []finding{{levelWarn, "updater", "no report in " + e.updaterReport + ": fengqiao-updater not installed (apt install fengqiao-updater) or never given an update"}}
	}
	var r updater.Reported
	if err == nil {
		err = json.Unmarshal(data, &r)
	}
	if err != nil {
		return []finding{{levelWarn, "updater", fmt.Sprintf("%s: %v", e.updaterReport, err)}}
	}
	detail := fmt.Sprintf("update v%d (%s): %s", r.Version, r.Release, describeUpdate(r, time.Local))
	if r.Error != "" {
		detail += ": " + r.Error
	}
	level := levelOK
	switch {
	case r.Status == updater.StatusRollbackFailed:
		level = levelFail // the kiosk may run a half-installed release
	case r.Status == updater.StatusRolledBack || r.Status == updater.StatusRejected || r.Reason == updater.ReasonStateDamaged:
		level = levelWarn
	}
	return []finding{{level, "updater", detail}}
}

func (e doctorEnv) kioskd(ctx context.Context) (apitype.Status, apitype.Devices, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c := localclient.New(e.socket)
	st, err := c.Status(ctx)
	if err != nil {
		return st, apitype.Devices{}, err
	}
	devs, err := c.Devices(ctx)
	return st, devs, err
}

// devices checks each device the board profile names: that its device node
// is there and is what it should be, and, when kioskd answers, whether
// kioskd has it working.
func (e doctorEnv) devices(b *config.Board, st apitype.Status, devs apitype.Devices, live bool) []finding {
	var out []finding
	add := func(level, item, format string, args ...any) {
		out = append(out, finding{level, item, fmt.Sprintf(format, args...)})
	}
	device := func(item, driver, path, live, liveErr string) {
		switch driver {
		case "none", "":
			add(levelOK, item, "none on this board (profile)")
			return
		case "simulated":
			add(levelWarn, item, "simulated (a developer's board profile)")
			return
		}
		if f := checkDeviceNode(item, path); f.level != levelOK || live == "" {
			out = append(out, f)
			return
		} else if live == apitype.DeviceFailed || live == apitype.ReaderFailed {
			add(levelFail, item, "%s is there but kioskd cannot use it: %s", path, liveErr)
		} else {
			add(levelOK, item, "%s; kioskd: %s", f.detail, live)
		}
	}
	readerState, readerErr, printerState, printerErr := "", "", "", ""
	if live {
		readerState, readerErr = st.IDCard.State, st.IDCard.LastError
		printerState, printerErr = devs.Printer.State, devs.Printer.LastError
	}
	device("reader", b.IDCard.Driver, b.IDCard.Device, readerState, readerErr)
	device("printer", b.Printer.Driver, b.Printer.Device, printerState, printerErr)
	for _, cam := range b.Cameras {
		state, lastErr := "", ""
		if live && st.Hardware != nil {
			for _, c := range st.Hardware.Cameras {
				if c.Name == cam.Name {
					state, lastErr = c.State, c.LastError
				}
			}
		}
		device("camera "+cam.Name, cam.Driver, cam.Device, state, lastErr)
	}

	switch b.GPIO.Driver {
	case "none", "":
		add(levelOK, "gpio", "none on this board (profile)")
	case "simulated":
		add(levelWarn, "gpio", "simulated (a developer's board profile)")
	default:
		chips, _ := filepath.Glob(e.gpioGlob)
		if len(chips) == 0 {
			add(levelFail, "gpio", "no GPIO chip (%s): the PIR sensor, door switch and LED cannot work", e.gpioGlob)
			break
		}
		add(levelOK, "gpio", "%s", strings.Join(chips, " "))
		if live && st.Hardware != nil {
			h := st.Hardware
			for _, in := range []struct {
				name, pin, state, err string
			}{
				{"pir", b.GPIO.PIR.Pin, h.PIR.State, h.PIR.LastError},
				{"tamper", b.GPIO.Tamper.Pin, h.Tamper.State, h.Tamper.LastError},
				{"led", b.GPIO.LED.Pin, h.LED.State, h.LED.LastError},
			} {
				switch in.state {
				case apitype.DeviceFailed:
					add(levelFail, "gpio "+in.name, "%s: %s", in.pin, in.err)
				case apitype.DeviceAbsent:
					add(levelOK, "gpio "+in.name, "none on this board (profile)")
				default:
					add(levelOK, "gpio "+in.name, "%s: %s", in.pin, in.state)
				}
			}
		}
	}
	return out
}

// checkDeviceNode says whether path is a character device kioskd's user
// can open (group dialout or video, mode 0660), following udev symlinks.
func checkDeviceNode(item, path string) finding {
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		hint := ""
		if item == "reader" || item == "printer" {
			hint = " (is it plugged in and powered? a USB bridge gets its name from /lib/udev/rules.d/99-fengqiao.rules)"
		}
		return finding{levelFail, item, fmt.Sprintf("%s: absent%s", path, hint)}
	}
	fi, err := os.Stat(target)
	if err != nil {
		return finding{levelFail, item, fmt.Sprintf("%s: %v", path, err)}
	}
	if fi.Mode()&os.ModeCharDevice == 0 {
		return finding{levelFail, item, fmt.Sprintf("%s is not a character device", path)}
	}
	name := path
	if target != path {
		name += " → " + target
	}
	owner, group := "?", "?"
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		owner, group = userName(sys.Uid), groupName(sys.Gid)
	}
	detail := fmt.Sprintf("%s (%v %s:%s)", name, fi.Mode().Perm(), owner, group)
	if !kioskdCanOpen(fi.Mode().Perm(), owner, group) {
		return finding{levelFail, item, detail + ": kioskd's user (fengqiao, groups " + strings.Join(kioskdGroups, ", ") +
			") cannot open it; the package's udev rule gives such devices group dialout, mode 0660"}
	}
	return finding{levelOK, item, detail}
}

// kioskdUser and kioskdGroups are whom the kioskd unit runs as
// (packaging/deb/kioskd: sysusers.conf, SupplementaryGroups=).
const kioskdUser = "fengqiao"

var kioskdGroups = []string{"fengqiao", "dialout", "video", "gpio", "audio"}

// kioskdCanOpen reports whether kioskd may read and write a device node
// with these permissions, owner and group.
func kioskdCanOpen(perm os.FileMode, owner, group string) bool {
	switch {
	case perm&0o006 == 0o006:
		return true
	case owner == kioskdUser && perm&0o600 == 0o600:
		return true
	case slices.Contains(kioskdGroups, group) && perm&0o060 == 0o060:
		return true
	}
	return false
}

func userName(uid uint32) string {
	if u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10)); err == nil {
		return u.Username
	}
	return strconv.FormatUint(uint64(uid), 10)
}

func groupName(gid uint32) string {
	if g, err := user.LookupGroupId(strconv.FormatUint(uint64(gid), 10)); err == nil {
		return g.Name
	}
	return strconv.FormatUint(uint64(gid), 10)
}

// clock: a kiosk without network or battery-backed clock boots with the
// time it last saved, or 1970. Records still get made; their times are
// then wrong, and TLS certificates look not yet valid.
func (e doctorEnv) clock() []finding {
	now := e.now()
	var out []finding
	synced, err := e.clockSynced()
	switch {
	case !e.clockFloor.IsZero() && now.Before(e.clockFloor):
		out = append(out, finding{levelFail, "clock", fmt.Sprintf("%s is before this software was built (%s): the clock is wrong (timedatectl; an RTC keeps it over power cuts)",
			now.Format(time.DateTime), e.clockFloor.Format(time.DateOnly))})
	case err == nil && synced:
		out = append(out, finding{levelOK, "clock", now.Format(time.DateTime+" MST") + ", synchronised"})
	default:
		out = append(out, finding{levelWarn, "clock", now.Format(time.DateTime+" MST") + ", not synchronised with a time server (no network yet, or timesyncd off)"})
	}
	if _, err := os.Stat(e.rtc); err == nil {
		out = append(out, finding{levelOK, "rtc", e.rtc + " present: the time survives a power cut"})
	} else {
		out = append(out, finding{levelWarn, "rtc", "no " + e.rtc + ": after a power cut the time is wrong until the network is back"})
	}
	return out
}

// kernelClockSynced reads the kernel's NTP status (adjtimex), which
// systemd-timesyncd and chrony set once they have disciplined the clock.
func kernelClockSynced() (bool, error) {
	var tx unix.Timex
	state, err := unix.Adjtimex(&tx)
	if err != nil {
		return false, err
	}
	return state != unix.TIME_ERROR && tx.Status&unix.STA_UNSYNC == 0, nil
}

// disk: the outbox keeps up to its quota of records while the township is
// unreachable; the disk must have room for it.
func (e doctorEnv) disk(quota int64) []finding {
	var fs unix.Statfs_t
	if err := unix.Statfs(e.data, &fs); err != nil {
		return []finding{{levelFail, "disk", fmt.Sprintf("%s: %v", e.data, err)}}
	}
	free := int64(fs.Bavail) * int64(fs.Bsize) // Bsize is int32 on 32-bit ARM
	detail := fmt.Sprintf("%s free on %s, storage quota %s", humanize.IBytes(uint64(free)), e.data, humanize.IBytes(uint64(quota)))
	switch {
	case free < 64<<20:
		return []finding{{levelFail, "disk", detail + ": nearly full, new records may be refused"}}
	case free < quota:
		return []finding{{levelWarn, "disk", detail + ": a long outage may fill the disk before the quota"}}
	}
	return []finding{{levelOK, "disk", detail}}
}

// broker: a TCP connection and, on a TLS broker, a full handshake with the
// kiosk's own certificate, as kioskd makes it.
func (e doctorEnv) broker(ctx context.Context, cfg *config.Config) []finding {
	u, err := url.Parse(cfg.Site.MQTT.Broker)
	if err != nil {
		return []finding{{levelFail, "broker", err.Error()}}
	}
	start := time.Now()
	d := net.Dialer{Timeout: 10 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return []finding{{levelFail, "broker", fmt.Sprintf("%s unreachable: %v (records wait on the kiosk meanwhile)", u.Host, err)}}
	}
	defer conn.Close()
	tc := cfg.TLSConfig()
	if tc == nil {
		return []finding{{levelOK, "broker", fmt.Sprintf("%s reachable in %s (plain TCP: dev only)", u.Host, time.Since(start).Round(time.Millisecond))}}
	}
	tc.ServerName = u.Hostname()
	tconn := tls.Client(conn, tc)
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := tconn.HandshakeContext(hctx); err != nil {
		return []finding{{levelFail, "broker", fmt.Sprintf("%s: TLS handshake failed: %v", u.Host, err)}}
	}
	return []finding{{levelOK, "broker", fmt.Sprintf("%s reachable, TLS handshake with the kiosk's certificate in %s", u.Host, time.Since(start).Round(time.Millisecond))}}
}

// certWarnDays: a certificate this close to expiry needs renewing on the
// next visit, before the kiosk stops delivering.
const certWarnDays = 30

func (e doctorEnv) certificates(cfg *config.Config) []finding {
	var out []finding
	caFile, certFile := cfg.TLSFiles()
	for _, f := range []struct{ item, path string }{{"ca cert", caFile}, {"kiosk cert", certFile}} {
		if f.path == "" {
			continue
		}
		certs, err := readCerts(f.path)
		if err != nil {
			out = append(out, finding{levelFail, f.item, err.Error()})
			continue
		}
		now := e.now()
		for _, c := range certs {
			left := c.NotAfter.Sub(now)
			detail := fmt.Sprintf("%s: %q valid until %s", f.path, c.Subject.CommonName, c.NotAfter.Format(time.DateOnly))
			switch {
			case now.Before(c.NotBefore):
				out = append(out, finding{levelFail, f.item, detail + ", but not valid before " + c.NotBefore.Format(time.DateOnly) + " (or the clock is wrong)"})
			case left <= 0:
				out = append(out, finding{levelFail, f.item, detail + ": EXPIRED"})
			case left < certWarnDays*24*time.Hour:
				out = append(out, finding{levelWarn, f.item, fmt.Sprintf("%s: %d days left, renew it", detail, int(left.Hours()/24))})
			default:
				out = append(out, finding{levelOK, f.item, detail})
			}
		}
	}
	return out
}

func readCerts(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if c, err := x509.ParseCertificate(b.Bytes); err == nil {
			certs = append(certs, c)
		}
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s: no certificate in it", path)
	}
	return certs, nil
}
