// Package idcard owns the kiosk's side of the second-generation ID card
// reader: the SAM serial protocol (framing, status codes, commands), the
// decoding of the card's 256-byte text block for the four card types the
// SAM reads, and the checks on the numbers printed on them.
//
// The Reader receives an io.ReadWriter instead of a device path, so the same
// code runs against a UART, a USB-serial bridge, a pty or the simulator in
// idcard/idcardsim. Opening real ports is drivers/serialport's job.
//
// Personal data: Card implements fmt.Stringer, fmt.GoStringer and
// slog.LogValuer so that printing or logging a card by accident shows only
// masked fields. Nothing in this package logs card contents.
//
// Protocol facts were taken from the project notes
// (shared/docs/idcard-protocol.md) and checked against open parsers; where
// they differ, the comments say which source was followed.
package idcard
