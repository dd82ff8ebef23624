// Package gpio owns the kiosk's digital I/O lines: debounced inputs (the PIR
// presence sensor that wakes the dimmed screen, the tamper switch that tells
// the enclosure was opened) and the status LED that shows a technician at a
// glance whether the kiosk is online, offline or faulty.
//
// Like every driver it receives its hardware instead of finding it: an Input
// takes a periph gpio.PinIn and an LED a gpio.PinOut. Resolving a board
// profile's pin names to periph pins needs periph.io/x/host, which only
// drivers/gpio/gpiohost imports, so this package and its tests run on any
// machine with periph's gpiotest pins.
//
// Time is the time package's, with no clock to inject: debounce windows
// and blink steps are plain timers, and the tests run them in
// testing/synctest bubbles, where time is virtual, so every window is
// exact and no test waits in real time.
//
// Absent is not failed: NewInput and NewLED return an error wrapping
// ErrAbsent when the board has no such device (no pin configured), which the
// caller reports as "absent" and carries on; any other error means the device
// is there but does not work.
package gpio
