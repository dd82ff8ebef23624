// Package drivers is the home of the kiosk's hardware drivers. Each driver
// lives in its own package (drivers/idcard, drivers/camera, drivers/gpio, …),
// defines its hardware as a small interface with a real implementation and a
// fake for tests, and receives an io.ReadWriter or a pin instead of opening
// device paths itself, so the same code runs against a pty, a USB-serial bridge
// or a UART.
package drivers
