package idcard_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/iotest"

	"github.com/fengqiao/kiosk/drivers/idcard"
)

func TestRequestEncoding(t *testing.T) {
	tests := []struct {
		cmd  idcard.Command
		want string
		src  string
	}{
		{idcard.CmdFindCard, "AA AA AA 96 69 00 03 20 01 22", "protocol notes"},
		{idcard.CmdSelectCard, "AA AA AA 96 69 00 03 20 02 21", "protocol notes"},
		{idcard.CmdReadBase, "AA AA AA 96 69 00 03 30 01 32", "protocol notes"},
		{idcard.CmdReset, "AA AA AA 96 69 00 03 10 FF EC", "protocol notes"},
		{idcard.CmdSAMStatus, "AA AA AA 96 69 00 03 11 FF ED", "hev idcard reader, THID CVR SDK"},
		{idcard.CmdSAMID, "AA AA AA 96 69 00 03 12 FF EE", "THID CVR SDK"},
		{idcard.CmdReadBaseFingerprint, "AA AA AA 96 69 00 03 30 10 23", "THID CVR SDK"},
		{idcard.CmdReadAppendedAddress, "AA AA AA 96 69 00 03 30 03 30", "frame rules"},
	}
	for _, tt := range tests {
		t.Run(tt.cmd.String(), func(t *testing.T) {
			got, err := tt.cmd.Request().MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if want := mustHex(t, tt.want); !bytes.Equal(got, want) {
				t.Errorf("got % X, want % X (%s)", got, want, tt.src)
			}
		})
	}
}

func TestResponseRoundTrip(t *testing.T) {
	for _, r := range []idcard.Response{
		{SW3: 0x90},
		{SW3: 0x9F, Data: []byte{0, 0, 0, 0}},
		{SW1: 1, SW2: 2, SW3: 0x41},
		{SW3: 0x90, Data: bytes.Repeat([]byte{0xAA}, idcard.MaxBodyLen-3)},
	} {
		b, err := r.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		body, err := idcard.NewDecoder(bytes.NewReader(b)).Next()
		if err != nil {
			t.Fatal(err)
		}
		got, err := idcard.ParseResponse(body)
		if err != nil {
			t.Fatal(err)
		}
		if got.SW1 != r.SW1 || got.SW2 != r.SW2 || got.SW3 != r.SW3 || !bytes.Equal(got.Data, r.Data) {
			t.Errorf("round trip of %+v gave %+v", r, got)
		}
	}
}

func TestAppendFrameLimits(t *testing.T) {
	if _, err := idcard.AppendFrame(nil, []byte{1}); !errors.Is(err, idcard.ErrShortFrame) {
		t.Errorf("1-byte body: %v, want ErrShortFrame", err)
	}
	if _, err := idcard.AppendFrame(nil, make([]byte, idcard.MaxBodyLen+1)); !errors.Is(err, idcard.ErrFrameTooLong) {
		t.Errorf("oversize body: %v, want ErrFrameTooLong", err)
	}
	if _, err := idcard.ParseResponse([]byte{0, 0}); !errors.Is(err, idcard.ErrShortFrame) {
		t.Errorf("2-byte response: %v, want ErrShortFrame", err)
	}
	if _, err := idcard.ParseRequest([]byte{0x20}); !errors.Is(err, idcard.ErrShortFrame) {
		t.Errorf("1-byte request: %v, want ErrShortFrame", err)
	}
}

// mustDecodeAll runs a Decoder over stream read chunk bytes at a time and
// describes each result: the body in hex, or the sentinel error.
func mustDecodeAll(t *testing.T, stream []byte, chunk int) []string {
	t.Helper()
	var r io.Reader = bytes.NewReader(stream)
	if chunk > 0 {
		r = &chunkReader{b: stream, n: chunk}
	}
	d := idcard.NewDecoder(r)
	var out []string
	for i := 0; ; i++ {
		if i > len(stream)+2 {
			t.Fatalf("decoder made no progress after %d calls", i)
		}
		body, err := d.Next()
		switch {
		case err == nil:
			out = append(out, fmt.Sprintf("% X", body))
		case errors.Is(err, io.EOF):
			return out
		default:
			out = append(out, sentinel(err))
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.ErrNoProgress) {
				return out
			}
		}
	}
}

func sentinel(err error) string {
	for _, s := range []error{idcard.ErrChecksum, idcard.ErrShortFrame, idcard.ErrFrameTooLong, io.ErrUnexpectedEOF, io.ErrNoProgress} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return "unexpected: " + err.Error()
}

// chunkReader returns at most n bytes per Read.
type chunkReader struct {
	b []byte
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), c.n)], c.b)
	c.b = c.b[k:]
	return k, nil
}

func TestDecoder(t *testing.T) {
	find := "AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97"
	findBody := "00 00 9F 00 00 00 00"
	sel := "AA AA AA 96 69 00 0C 00 00 90 00 00 00 00 00 00 00 00 9C"
	selBody := "00 00 90 00 00 00 00 00 00 00 00"
	var (
		chk   = idcard.ErrChecksum.Error()
		short = idcard.ErrShortFrame.Error()
		long  = idcard.ErrFrameTooLong.Error()
		trunc = io.ErrUnexpectedEOF.Error()
	)
	tests := []struct {
		name   string
		stream string
		want   []string
	}{
		{"one frame", find, []string{findBody}},
		{"two frames back to back", find + sel, []string{findBody, selBody}},
		{"noise before preamble", "00 FF 13 AA AA 96 55 " + find, []string{findBody}},
		{"preamble bytes as noise", "AA AA " + find, []string{findBody}},
		{"noise between frames", find + " 01 02 03 " + sel, []string{findBody, selBody}},
		{"bad checksum then good", "AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 98 " + sel, []string{chk, selBody}},
		{"wrong length (one short) then good", "AA AA AA 96 69 00 07 00 00 9F 00 00 00 00 97 " + sel, []string{chk, selBody}},
		{"wrong length (long) swallowing next frame", "AA AA AA 96 69 00 0A 00 00 9F 00 00 00 00 97 " + sel + sel, []string{chk, selBody, selBody}},
		{"LEN 0", "AA AA AA 96 69 00 00 " + find, []string{short, findBody}},
		{"LEN 2", "AA AA AA 96 69 00 02 00 02 " + find, []string{short, findBody}},
		{"LEN over cap", "AA AA AA 96 69 20 00 00 00 90 " + find, []string{long, findBody}},
		{"LEN FFFF", "AA AA AA 96 69 FF FF " + find, []string{long, findBody}},
		{"truncated frame at end", find + " AA AA AA 96 69 00 08 00 00", []string{findBody, trunc}},
		{"truncated preamble at end", find + " AA AA AA", []string{findBody, trunc}},
		{"noise only", "01 02 03 04 05 06 07 08 09", nil},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		stream := mustHex(t, tt.stream)
		for _, chunk := range []int{0, 1, 2, 3, 7} {
			t.Run(fmt.Sprintf("%s/chunk%d", tt.name, chunk), func(t *testing.T) {
				got := mustDecodeAll(t, stream, chunk)
				if fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Errorf("got  %q\nwant %q", got, tt.want)
				}
			})
		}
	}
}

// TestDecoderSplitEverywhere splits a base-info reply between two reads at
// every byte position.
func TestDecoderSplitEverywhere(t *testing.T) {
	frames := mustReadHex(t, "testdata/base_resident.hex")
	reply := frames[1].Data
	want := fmt.Sprintf("% X", reply[7:len(reply)-1])
	for i := 0; i <= len(reply); i++ {
		r := io.MultiReader(bytes.NewReader(reply[:i]), bytes.NewReader(reply[i:]))
		body, err := idcard.NewDecoder(r).Next()
		if err != nil || fmt.Sprintf("% X", body) != want {
			t.Fatalf("split at %d: err %v, body match %v", i, err, fmt.Sprintf("% X", body) == want)
		}
	}
	// One byte per read as well.
	body, err := idcard.NewDecoder(iotest.OneByteReader(bytes.NewReader(reply))).Next()
	if err != nil || fmt.Sprintf("% X", body) != want {
		t.Fatalf("one byte per read: %v", err)
	}
}

func TestDecoderNoProgress(t *testing.T) {
	_, err := idcard.NewDecoder(zeroReader{}).Next()
	if !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("got %v, want io.ErrNoProgress", err)
	}
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestDecoderSkipped(t *testing.T) {
	d := idcard.NewDecoder(bytes.NewReader(mustHex(t, "01 02 03 AA AA AA 96 69 00 04 00 00 90 94")))
	if _, err := d.Next(); err != nil {
		t.Fatal(err)
	}
	if d.Skipped() != 3 {
		t.Errorf("Skipped() = %d, want 3", d.Skipped())
	}
}

// TestStatusCodes checks every SW3 code of the protocol notes: success
// codes give no error, the rest a *StatusError matching its sentinel with
// a known Chinese and English text.
func TestStatusCodes(t *testing.T) {
	tests := []struct {
		sw3      byte
		sentinel error
		zh       string
	}{
		{0x90, nil, "操作成功"},
		{0x9F, nil, "寻找证/卡成功"},
		{0x10, idcard.ErrSAMChecksum, "接收数据校验和错"},
		{0x11, idcard.ErrSAMLength, "接收数据长度错"},
		{0x21, idcard.ErrSAMCommand, "接收数据命令错"},
		{0x23, idcard.ErrNotPermitted, "越权操作"},
		{0x24, idcard.ErrUnrecognised, "无法识别的错误"},
		{0x31, idcard.ErrCardAuthSAM, "证/卡认证SAM失败"},
		{0x32, idcard.ErrSAMAuthCard, "SAM认证证/卡失败"},
		{0x33, idcard.ErrVerification, "信息验证错误"},
		{0x40, idcard.ErrUnknownCardType, "无法识别的卡类型"},
		{0x41, idcard.ErrReadFailed, "读证/卡操作失败"},
		{0x47, idcard.ErrRandom, "取随机数失败"},
		{0x60, idcard.ErrSelfTest, "SAM自检失败"},
		{0x66, idcard.ErrSAMNotAuthorised, "SAM未经授权"},
		{0x80, idcard.ErrNoCard, "寻找证/卡失败"},
		{0x81, idcard.ErrSelectFailed, "选取证/卡失败"},
		{0x91, idcard.ErrNoItem, "证/卡中此项无内容"},
	}
	if len(tests) != len(idcard.StatusCodes()) {
		t.Errorf("table has %d codes, StatusCodes() %d", len(tests), len(idcard.StatusCodes()))
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%02X", tt.sw3), func(t *testing.T) {
			zh, en := idcard.StatusText(tt.sw3)
			if zh != tt.zh || en == "" || en == "unknown status" {
				t.Errorf("StatusText = %q, %q", zh, en)
			}
			err := idcard.Response{SW3: tt.sw3}.Err()
			if tt.sentinel == nil {
				if err != nil {
					t.Fatalf("Err() = %v, want nil", err)
				}
				return
			}
			wrapped := fmt.Errorf("context: %w", err)
			if !errors.Is(wrapped, tt.sentinel) {
				t.Errorf("%v is not %v", wrapped, tt.sentinel)
			}
			var se *idcard.StatusError
			if !errors.As(wrapped, &se) || se.SW3 != tt.sw3 {
				t.Errorf("errors.As gave %v", se)
			}
			if !bytes.Contains([]byte(err.Error()), []byte(tt.zh)) {
				t.Errorf("Error() = %q lacks %q", err.Error(), tt.zh)
			}
			for _, other := range []error{idcard.ErrNoCard, idcard.ErrReadFailed} {
				if other != tt.sentinel && errors.Is(err, other) {
					t.Errorf("%v matches %v too", err, other)
				}
			}
		})
	}
	if zh, en := idcard.StatusText(0x55); zh != "未知状态" || en != "unknown status" {
		t.Errorf("unknown code: %q %q", zh, en)
	}
}
