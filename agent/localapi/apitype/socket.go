package apitype

// DefaultSocket is where kioskd serves the local API, and where kiosk-ui,
// kioskctl and fengqiao-updater look for it, unless --socket says
// otherwise: the packaging layout's path (packaging/deb, docs/deploy.md).
// The one place it is written down; make run passes its own.
const DefaultSocket = "/run/fengqiao/kioskd.sock"
