#!/usr/bin/env python3
"""Builds the base-info replay files (base_*.hex) from the text-block table
in shared/docs/idcard-protocol.md, independently of the Go code, so the Go
tests check EncodeText/DecodeText/idcardsim against a second implementation.

Run from this directory: python3 gen_replies.py. The output is committed;
the Go tests never run this script.
"""

def filler(n, seed):
    b = bytearray(n)
    b[:12] = b"FAKE-NOT-WLT"
    x = seed
    for i in range(12, n):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
        b[i] = (x >> 16) & 0xFF
    return bytes(b)

def text(fields):
    """fields: list of (offset, size, str). Pads with UCS-2 spaces."""
    b = bytearray(b" \x00" * 128)
    for off, size, s in fields:
        e = s.encode("utf-16-le")
        assert len(e) <= size, (off, s)
        b[off:off + len(e)] = e
    assert len(b) == 256
    return bytes(b)

def frame(body):
    ln = len(body) + 1
    head = bytes([ln >> 8, ln & 0xFF])
    chk = 0
    for x in head + body:
        chk ^= x
    return b"\xAA\xAA\xAA\x96\x69" + head + body + bytes([chk])

def base_reply(txt, photo, fp=None):
    lens = [len(txt), len(photo)] + ([] if fp is None else [len(fp)])
    data = b"".join(bytes([n >> 8, n & 0xFF]) for n in lens) + txt + photo + (fp or b"")
    return frame(b"\x00\x00\x90" + data)

def hexlines(b, per=32):
    return "\n".join("  " + " ".join("%02X" % x for x in b[i:i + per]) for i in range(0, len(b), per))

# offsets from the notes' table
resident1 = text([(0, 30, "测试一"), (30, 2, "1"), (32, 4, "01"), (36, 16, "19850615"),
                  (52, 70, "福建省武夷山市示例乡测试村虚构路1号"), (122, 36, "350782198506151236"),
                  (158, 30, "武夷山市公安局"), (188, 16, "20200102"), (204, 16, "20400102")])
resident2 = text([(0, 30, "测试二"), (30, 2, "2"), (32, 4, "22"), (36, 16, "19600301"),
                  (52, 70, "福建省武夷山市示例乡测试村虚构路二号之三"), (122, 36, "35078219600301402X"),
                  (158, 30, "武夷山市公安局"), (188, 16, "20160520"), (204, 16, "长期")])
permitJ = text([(0, 30, "测试港"), (30, 2, "1"), (36, 16, "19900808"),
                (52, 70, "福建省武夷山市示例乡测试村虚构路8号"), (122, 36, "810000199008080028"),
                (158, 30, "武夷山市公安局"), (188, 16, "20210901"), (204, 16, "20260901"),
                (220, 18, "H00001234"), (238, 4, "01"), (248, 2, "J")])
foreignI = text([(0, 120, "SPECIMEN, TEST ONE"), (120, 2, "1"), (122, 30, "UTO350790010116"),
                 (152, 6, "UTO"), (158, 30, "测试外"), (188, 16, "20150310"), (204, 16, "20250310"),
                 (220, 16, "19900101"), (236, 4, "01"), (240, 8, "3500"), (248, 2, "I")])
name = "SPECIMEN-EXAMPLE, TESTNAME MIDDLENAME LONGER"
foreignY = text([(0, 30, "测试新"), (30, 2, "2"), (32, 4, "00"), (36, 16, "19920202"),
                 (52, 70, name[:35]), (122, 36, "935999199202020128"), (188, 16, "20240115"),
                 (204, 16, "20340115"), (220, 22, name[35:]), (242, 6, "UTO"), (248, 2, "Y")])

cases = [
    ("base_resident.hex", "resident card (type ' '), fixture 0, read with 30 01", resident1, filler(1024, 0x11), None),
    ("base_resident_longterm.hex", "resident card, valid to 长期, fixture 1", resident2, filler(1024, 0x33), None),
    ("base_permit_j.hex", "Hong Kong/Macau/Taiwan residence permit (J), fixture 2", permitJ, filler(1024, 0x44), None),
    ("base_foreigner_i.hex", "old foreigner permanent residence card (I), fixture 3", foreignI, filler(1024, 0x55), None),
    ("base_foreigner_y.hex", "2023 foreigner permanent residence card (Y), fixture 4, English name overflowing to offset 220", foreignY, filler(1024, 0x66), None),
    ("base_resident_fingerprint.hex", "resident card, fixture 0, read with 30 10 (1024-byte fingerprint)", resident1, filler(1024, 0x11), filler(1024, 0x22)),
]
for fn, what, txt, photo, fp in cases:
    cmd = b"\x30\x10" if fp else b"\x30\x01"
    req = frame(cmd)
    rep = base_reply(txt, photo, fp)
    with open(fn, "w") as f:
        f.write("# %s\n" % what)
        f.write("# Built by gen_replies.py from the text-block table (not recorded from hardware).\n")
        f.write("# Reply: preamble, LEN %04X, SW 00 00 90, lengths, 256-byte text, photo%s, CHK %02X.\n"
                % (len(rep) - 7, ", fingerprint" if fp else "", rep[-1]))
        f.write("> " + " ".join("%02X" % x for x in req) + "\n")
        f.write("<\n" + hexlines(rep) + "\n")
    print(fn, len(rep), "bytes, LEN %04X, CHK %02X" % (len(rep) - 7, rep[-1]))
