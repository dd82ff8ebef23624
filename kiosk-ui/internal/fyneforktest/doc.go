// Package fyneforktest holds third_party/fyne, the Fyne that go.mod
// replaces Fyne with, to its PATCH: the fork must be pristine upstream Fyne
// of the version PATCH names but for the files PATCH lists as replaced,
// added or pruned, so that a stray edit, or an upgrade that changes a file
// under the patch, shows up as a failing test with the list of files.
//
// It imports no Fyne, so it still runs, and lists what is left to do, while
// an upgrade leaves the fork unable to compile. It has no code outside its
// tests.
package fyneforktest
