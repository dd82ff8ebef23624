package main

import (
	"fmt"
	"io"

	"github.com/fengqiao/kiosk/agent/sealed"
)

// recordsKeyGen makes the township's records key: the private key file
// township watch --key opens records with, the public key line for every
// kiosk's site file or a bundle's records section (a rotation).
func recordsKeyGen(out string, stdout, stderr io.Writer) int {
	k, err := sealed.GenerateKey()
	if err == nil {
		err = sealed.WritePrivateKeyFile(out, k)
	}
	if err != nil {
		fmt.Fprintf(stderr, "kioskctl: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "# RECORDS key (X25519) that kiosks seal phone and ID numbers to; private key in %s: whoever holds it reads\n", out)
	fmt.Fprintf(stdout, "# every sealed number, keep it with township IT. Not a signing key: it goes under records.township_key only,\n")
	fmt.Fprintf(stdout, "# never control.township_keys (that one is made by kioskctl keys gen without --encryption).\n")
	fmt.Fprintf(stdout, "# (kioskctl township watch --key %s), and keep an old one until no kiosk still queues records sealed to it.\n", out)
	fmt.Fprintf(stdout, "# key id %s; put this in every kiosk's site file, or in a signed bundle to rotate:\nrecords:\n  township_key: %s\n", k.ID(), k.Public())
	return 0
}
