package idcard

import (
	"errors"
	"fmt"
)

// Errors returned by this package. Every error it returns wraps one of them
// (and, for SAM status codes, a *StatusError), so callers test with errors.Is.
//
// The SAM status sentinels are *StatusError values: errors.Is matches any
// *StatusError with the same SW3, so errors.Is(err, ErrNoCard) holds for the
// status the SAM sent back, whatever message or wrapping it carries.
var (
	// ErrTimeout: the reader did not send a complete valid reply in time.
	ErrTimeout = errors.New("idcard: timed out waiting for the reader")
	// ErrPortClosed: reading or writing the port failed for good (closed,
	// unplugged, hung up).
	ErrPortClosed = errors.New("idcard: serial port closed")
	// ErrClosed: the Reader was closed.
	ErrClosed = errors.New("idcard: reader closed")

	// ErrChecksum: a frame's CHK byte is not the XOR of LEN..data.
	ErrChecksum = errors.New("idcard: frame checksum mismatch")
	// ErrShortFrame: a frame is shorter than its fixed fields.
	ErrShortFrame = errors.New("idcard: frame too short")
	// ErrFrameTooLong: a frame's LEN exceeds MaxFrameLen, or a body is too
	// long to encode.
	ErrFrameTooLong = errors.New("idcard: frame too long")
	// ErrLength: a reply's data does not have the length its command needs.
	ErrLength = errors.New("idcard: reply has the wrong length")

	// ErrTextBlock: the text block is malformed (size, card type, field
	// content).
	ErrTextBlock = errors.New("idcard: malformed text block")
	// ErrFieldTooLong: EncodeText was given a field that does not fit.
	ErrFieldTooLong = errors.New("idcard: field too long for the text block")
	// ErrInvalidIDNumber: an ID number fails its format or check digit.
	ErrInvalidIDNumber = errors.New("idcard: invalid ID number")
	// ErrNoPhoto: the card carries no photo to decode.
	ErrNoPhoto = errors.New("idcard: no photo")

	// SAM status codes (SW3), as *StatusError.
	ErrSAMChecksum      error = &StatusError{SW3: 0x10} // 接收数据校验和错
	ErrSAMLength        error = &StatusError{SW3: 0x11} // 接收数据长度错
	ErrSAMCommand       error = &StatusError{SW3: 0x21} // 接收数据命令错
	ErrNotPermitted     error = &StatusError{SW3: 0x23} // 越权操作
	ErrUnrecognised     error = &StatusError{SW3: 0x24} // 无法识别的错误
	ErrCardAuthSAM      error = &StatusError{SW3: 0x31} // 证/卡认证SAM失败
	ErrSAMAuthCard      error = &StatusError{SW3: 0x32} // SAM认证证/卡失败
	ErrVerification     error = &StatusError{SW3: 0x33} // 信息验证错误
	ErrUnknownCardType  error = &StatusError{SW3: 0x40} // 无法识别的卡类型
	ErrReadFailed       error = &StatusError{SW3: 0x41} // 读证/卡操作失败
	ErrRandom           error = &StatusError{SW3: 0x47} // 取随机数失败
	ErrSelfTest         error = &StatusError{SW3: 0x60} // SAM自检失败
	ErrSAMNotAuthorised error = &StatusError{SW3: 0x66} // SAM未经授权
	ErrNoCard           error = &StatusError{SW3: 0x80} // 寻找证/卡失败
	ErrSelectFailed     error = &StatusError{SW3: 0x81} // 选取证/卡失败
	ErrNoItem           error = &StatusError{SW3: 0x91} // 证/卡中此项无内容

	// errNeedMore is the frame scanner's "incomplete frame" signal; it
	// never leaves the package.
	errNeedMore = errors.New("idcard: need more bytes")
)

// SW3 values that mean success.
const (
	StatusOK        = 0x90 // 操作成功
	StatusCardFound = 0x9F // 寻找证/卡成功
)

// StatusError is a SAM reply whose SW3 is not a success code.
type StatusError struct {
	SW3 byte
}

// Error gives the code with its Chinese and English meaning; the Chinese
// texts are the ones used by the GA 467 interface and vendor SDKs.
func (e *StatusError) Error() string {
	zh, en := StatusText(e.SW3)
	return fmt.Sprintf("idcard: SAM status %02X: %s (%s)", e.SW3, zh, en)
}

// Is makes every *StatusError with the same SW3 match the sentinels above.
func (e *StatusError) Is(target error) bool {
	t, ok := target.(*StatusError)
	return ok && t.SW3 == e.SW3
}

// StatusText gives the Chinese and English meaning of an SW3 code. Unknown
// codes give "未知状态"/"unknown status".
func StatusText(sw3 byte) (zh, en string) {
	switch sw3 {
	case 0x90:
		return "操作成功", "success"
	case 0x9F:
		return "寻找证/卡成功", "card found"
	case 0x91:
		return "证/卡中此项无内容", "no such item on the card"
	case 0x10:
		return "接收数据校验和错", "checksum error in the request"
	case 0x11:
		return "接收数据长度错", "length error in the request"
	case 0x21:
		return "接收数据命令错", "command error in the request"
	case 0x23:
		return "越权操作", "operation not permitted"
	case 0x24:
		return "无法识别的错误", "unrecognised error"
	case 0x31:
		return "证/卡认证SAM失败", "card failed to authenticate the SAM"
	case 0x32:
		return "SAM认证证/卡失败", "SAM failed to authenticate the card"
	case 0x33:
		return "信息验证错误", "verification error"
	case 0x40:
		return "无法识别的卡类型", "unknown card type"
	case 0x41:
		return "读证/卡操作失败", "card read failed"
	case 0x47:
		return "取随机数失败", "random-number failure"
	case 0x60:
		return "SAM自检失败", "SAM self-test failed"
	case 0x66:
		return "SAM未经授权", "SAM not authorised"
	case 0x80:
		return "寻找证/卡失败", "no card / find failed"
	case 0x81:
		return "选取证/卡失败", "select failed"
	}
	return "未知状态", "unknown status"
}

// StatusCodes lists every SW3 code the protocol notes and the open parsers
// document, success codes included, in ascending order.
func StatusCodes() []byte {
	return []byte{0x10, 0x11, 0x21, 0x23, 0x24, 0x31, 0x32, 0x33, 0x40, 0x41, 0x47, 0x60, 0x66, 0x80, 0x81, 0x90, 0x91, 0x9F}
}
