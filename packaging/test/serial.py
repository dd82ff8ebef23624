#!/usr/bin/env python3
"""serial.py SOCKET: a root shell on the emulated board's serial console,
driven line by line from stdin, for boot-test.sh.

Each line read from stdin is one of
    wait TEXT [SECONDS]   wait until the console prints TEXT
    run COMMAND           run COMMAND in the board's shell; print its output
                          and its exit status as "<output>\\n=> STATUS"
    send COMMAND          type COMMAND and do not wait for it
and every answer ends with a line "--end--" on stdout. The console is the
board's ttyAMA0 with a root autologin (the test image's, not the
packages'); what it prints is also logged by qemu.
"""
import re
import socket
import sys
import time

PROMPT = "BOOTTEST# "
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
for _ in range(100):
    try:
        sock.connect(sys.argv[1])
        break
    except OSError:
        time.sleep(0.1)
sock.settimeout(1.0)
buf = ""
ansi = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")


def read_until(text, timeout):
    """Reads the console until text appears; returns what came before it."""
    global buf
    deadline = time.time() + timeout
    while text not in buf:
        if time.time() > deadline:
            raise TimeoutError(f"no {text!r} on the console within {timeout}s; last: {buf[-400:]!r}")
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        if not data:
            raise EOFError("console closed")
        buf += ansi.sub("", data.decode("utf-8", "replace"))
    before, _, buf = buf.partition(text)
    return before


def send(line):
    sock.sendall((line + "\n").encode())


def answer(text):
    sys.stdout.write(text + "\n--end--\n")
    sys.stdout.flush()


seq = 0
for line in sys.stdin:
    verb, _, rest = line.rstrip("\n").partition(" ")
    try:
        if verb == "wait":
            m = re.match(r"(.*?)(?: (\d+))?$", rest)
            read_until(m.group(1), int(m.group(2) or 600))
            answer("ok")
        elif verb == "login":
            # The autologin shell: give it a prompt that commands can end on.
            deadline = time.time() + int(rest or 900)
            while True:
                send("")
                try:
                    read_until("# ", 5)
                    break
                except TimeoutError:
                    if time.time() > deadline:
                        raise
            # Split in the command as typed, so that its echo (before stty
            # takes effect) is not mistaken for the new prompt.
            half = len(PROMPT) // 2
            send(f"stty -echo; export PS1='{PROMPT[:half]}''{PROMPT[half:]}' SYSTEMD_PAGER= SYSTEMD_COLORS=0 TERM=dumb")
            read_until(PROMPT, 60)
            buf = ""
            answer("ok")
        elif verb == "send":
            # A command whose end the shell may not live to report
            # (poweroff).
            send(rest)
            answer("ok")
        elif verb == "run":
            seq += 1
            mark = f"@@done{seq}@@"
            send(f"{rest}; echo \"{mark} $?\"")
            out = read_until(mark, 900)
            status = read_until("\n", 60).strip()
            read_until(PROMPT, 60)
            answer(out.strip("\n") + f"\n=> {status}")
        else:
            answer(f"error: unknown verb {verb!r}")
    except (TimeoutError, EOFError) as e:
        answer(f"error: {e}")
