#!/usr/bin/env python3
"""Small helpers for the weir benchmarks (bench/*.sh).

  helpers.py bytes SIZE                  print SIZE (k, M, G, T: powers of 1024) in bytes
  helpers.py sink PORTFILE COUNTFILE     TCP sink on 127.0.0.1:0; writes its port to
                                         PORTFILE, serves one connection, discards what
                                         it reads, writes the byte count to COUNTFILE
  helpers.py produce SIZE COUNTER        write SIZE zero bytes to stdout in 64 KiB
                                         chunks, publishing the running count in the
                                         8-byte file COUNTER (mmap)
  helpers.py consume COUNTER PRODCOUNTER INTERVAL RESULT
                                         read stdin to EOF, publishing its count in
                                         COUNTER; every INTERVAL s sample
                                         produced - consumed; at EOF write
                                         "bytes max_lead samples" to RESULT
  helpers.py summary NAME SIZE SECONDS...   print "name median min max gibps"
  helpers.py lines SIZE LINEFILE NSFILE  write SIZE bytes (a whole number of MiB) of
                                         32-byte lines (31 hex digits + LF) to LINEFILE,
                                         the same lines as netstrings ("31:...,") to
                                         NSFILE; print "lines linebytes nsbytes"
"""
import mmap
import os
import socket
import struct
import sys
import threading
import time

CHUNK = 64 * 1024


def to_bytes(s):
    s = s.strip()
    mult = {"k": 1 << 10, "K": 1 << 10, "m": 1 << 20, "M": 1 << 20,
            "g": 1 << 30, "G": 1 << 30, "t": 1 << 40, "T": 1 << 40}
    if s.endswith(("iB", "ib")):
        s = s[:-2]
    elif s.endswith(("B", "b")) and len(s) > 1 and not s[-2].isdigit():
        s = s[:-1]
    if s and s[-1] in mult:
        return int(float(s[:-1]) * mult[s[-1]])
    return int(s)


class Counter:
    """An 8-byte counter in a file, shared between processes through mmap."""

    def __init__(self, path, create):
        if create:
            with open(path, "wb") as f:
                f.write(b"\0" * 8)
        fd = os.open(path, os.O_RDWR if create else os.O_RDONLY)
        try:
            self.m = mmap.mmap(fd, 8, access=mmap.ACCESS_WRITE if create else mmap.ACCESS_READ)
        finally:
            os.close(fd)

    def set(self, n):
        struct.pack_into("<Q", self.m, 0, n)

    def get(self):
        return struct.unpack_from("<Q", self.m, 0)[0]


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def cmd_sink(portfile, countfile):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    write_atomic(portfile, "%d\n" % ls.getsockname()[1])
    conn, _ = ls.accept()
    ls.close()
    buf = bytearray(1 << 20)
    mv = memoryview(buf)
    total = 0
    recv_into = conn.recv_into
    while True:
        n = recv_into(mv)
        if n == 0:
            break
        total += n
    conn.close()
    write_atomic(countfile, "%d\n" % total)


def cmd_produce(size, counterpath):
    size = to_bytes(size)
    c = Counter(counterpath, True)
    chunk = bytes(CHUNK)
    done = 0
    fd = 1
    try:
        while done < size:
            n = min(CHUNK, size - done)
            mv = memoryview(chunk)[:n]
            while mv:
                w = os.write(fd, mv)
                mv = mv[w:]
                done += w
                c.set(done)
    except BrokenPipeError:
        sys.stderr.write("produce: broken pipe after %d bytes\n" % done)
        sys.exit(1)


def cmd_consume(counterpath, prodpath, interval, result):
    interval = float(interval)
    c = Counter(counterpath, True)
    # the producer creates its counter; wait for it
    deadline = time.monotonic() + 10
    while True:
        try:
            p = Counter(prodpath, False)
            break
        except (FileNotFoundError, ValueError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)
    state = {"consumed": 0, "max_lead": 0, "samples": 0, "done": False}

    def sampler():
        while not state["done"]:
            lead = p.get() - state["consumed"]
            state["samples"] += 1
            if lead > state["max_lead"]:
                state["max_lead"] = lead
            time.sleep(interval)

    t = threading.Thread(target=sampler, daemon=True)
    t.start()
    buf = bytearray(1 << 20)
    mv = memoryview(buf)
    fin = sys.stdin.buffer.raw
    while True:
        n = fin.readinto(mv)
        if not n:
            break
        state["consumed"] += n
        c.set(state["consumed"])
    state["done"] = True
    t.join()
    write_atomic(result, "%d %d %d\n" % (state["consumed"], state["max_lead"], state["samples"]))


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def cmd_summary(name, size, *secs):
    size = to_bytes(size)
    xs = [float(x) for x in secs]
    m = median(xs)
    print("%s %.4f %.4f %.4f %.4f" % (name, m, min(xs), max(xs), size / m / (1 << 30)))


LINE_PAYLOAD = 31


def cmd_lines(size, linepath, nspath):
    mib = to_bytes(size) >> 20
    if mib < 1:
        sys.stderr.write("lines: SIZE must be at least 1M\n")
        sys.exit(2)
    per_mib = (1 << 20) // (LINE_PAYLOAD + 1)
    # distinct lines within a block (a multiplicative hash), repeated per MiB
    payloads = [b"%031x" % ((i * 2654435761) % (1 << 124)) for i in range(per_mib)]
    lblock = b"".join(p + b"\n" for p in payloads)
    nblock = b"".join(b"%d:%s," % (len(p), p) for p in payloads)
    assert len(lblock) == 1 << 20
    with open(linepath, "wb") as fl, open(nspath, "wb") as fn:
        for _ in range(mib):
            fl.write(lblock)
            fn.write(nblock)
    print("%d %d %d" % (per_mib * mib, len(lblock) * mib, len(nblock) * mib))


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "bytes":
        print(to_bytes(args[0]))
    elif cmd == "sink":
        cmd_sink(*args)
    elif cmd == "produce":
        cmd_produce(*args)
    elif cmd == "consume":
        cmd_consume(*args)
    elif cmd == "summary":
        cmd_summary(*args)
    elif cmd == "lines":
        cmd_lines(*args)
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
