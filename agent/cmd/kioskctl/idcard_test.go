package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/kiosk/drivers/idcard/idcardsim"
)

// mustSimulate runs `kioskctl idcard simulate --pty` and returns the pty path
// and the simulator's stdin.
func mustSimulate(t *testing.T, args ...string) (string, io.Writer) {
	t.Helper()
	stdinR, stdinW := io.Pipe()
	outR, outW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- idcardSimulate(ctx, append([]string{"--pty"}, args...), stdinR, outW, io.Discard)
		outW.Close()
	}()
	t.Cleanup(func() {
		cancel()
		stdinW.Close()
		<-done
	})
	sc := bufio.NewScanner(outR)
	if !sc.Scan() || !strings.Contains(sc.Text(), "/dev/pts/") {
		t.Fatalf("simulate printed %q", sc.Text())
	}
	path := sc.Text()[strings.Index(sc.Text(), "/dev/"):]
	go io.Copy(io.Discard, outR)
	return path, stdinW
}

func TestIDCardSimulateAndRead(t *testing.T) {
	path, stdin := mustSimulate(t)
	card := idcardsim.Fixtures()[0]
	read := func(args ...string) (int, string) {
		var out bytes.Buffer
		code := run(context.Background(), append([]string{"idcard", "read", "--device", path, "--wait", "1s"}, args...), &out, &out)
		return code, out.String()
	}
	code, out := read()
	if code != 1 || !strings.Contains(out, "no card on the reader") {
		t.Errorf("read with no card = %d %q", code, out)
	}
	io.WriteString(stdin, "1\n")
	// The simulator takes the line in its own time: read until it has.
	for deadline := time.Now().Add(5 * time.Second); ; {
		if code, out = read(); code == 0 || time.Now().After(deadline) {
			break
		}
	}
	if code != 0 || !strings.Contains(out, card.Name) || strings.Contains(out, card.IDNumber) || strings.Contains(out, card.Address) {
		t.Errorf("masked read = %d\n%s", code, out)
	}
	code, out = read("--reveal", "--json")
	if code != 0 || !strings.Contains(out, card.IDNumber) || !strings.Contains(out, `"key": "id_number"`) {
		t.Errorf("revealed read = %d\n%s", code, out)
	}
	var none bytes.Buffer
	if code := run(context.Background(), []string{"idcard", "read", "--device", "/dev/nonexistent-reader"}, &none, &none); code != 1 || !strings.Contains(none.String(), "/dev/nonexistent-reader") {
		t.Errorf("missing device = %d %q", code, none.String())
	}
	if code := run(context.Background(), []string{"idcard", "simulate"}, &none, &none); code != 2 {
		t.Errorf("simulate without --pty = %d", code)
	}
}

// TestCardFieldsOfEveryType: every field the driver decodes, for every card
// type the simulator has, is printed by idcard read --json; identifiers
// only masked unless revealed.
func TestCardFieldsOfEveryType(t *testing.T) {
	for _, c := range idcardsim.Fixtures() {
		keys := map[string]string{}
		for _, f := range cardFields(c, true) {
			keys[f.Key] = f.Value
		}
		want := map[string]string{"name": c.Name, "english_name": c.EnglishName, "id_number": c.IDNumber,
			"address": c.Address, "authority": c.Authority, "pass_number": c.PassNumber, "issue_count": c.IssueCount,
			"nationality": c.Nationality, "card_version": c.CardVersion, "authority_code": c.AuthorityCode,
			"renewal_count": c.RenewalCount}
		for key, v := range want {
			if v != "" && keys[key] != v {
				t.Errorf("%s card: %s = %q, want %q", c.Type, key, keys[key], v)
			}
		}
		masked := map[string]string{}
		for _, f := range cardFields(c, false) {
			masked[f.Key] = f.Value
		}
		for _, key := range []string{"id_number", "pass_number"} {
			if v := want[key]; v != "" && masked[key] == v {
				t.Errorf("%s card: %s printed in full without --reveal", c.Type, key)
			}
		}
	}
}
