#!/usr/bin/env python3
"""The traffic and the checks of bench/soak.sh (see there for the weirs).

  soak.py drive DIR SECONDS    run the mixed traffic for SECONDS against the
                               weirs whose ports are in DIR/port.NAME
                               (fanin, proxy, broker, fanout) and the
                               fan-out feed DIR/feed (a FIFO); write what was
                               sent and received to DIR/drive.json
  soak.py check DIR SECONDS    after the weirs ended: check DIR/fanin.out,
                               the --stats=json of each weir (DIR/NAME.err)
                               and its exit status (DIR/NAME.status) against
                               DIR/drive.json; print the RSS table from
                               DIR/rss.csv and the traffic totals; exit 1 on
                               any failure, the reasons on the lines that
                               start with "FAIL"

Records are lines or netstrings "ID SEQ PAYLOAD" made by helpers.fan_line, so
a checker knows every record exactly and a torn one cannot pass for whole.
"""
import json
import os
import random
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helpers import _FAN_ALPHA, _fan_shape, fan_line, write_atomic  # noqa: E402

NAMES = ("fanin", "proxy", "broker", "fanout")
FANOUT_ID = 999999      # the record ID of the fan-out feed's lines
FANOUT_RATE = 1 << 20   # the feed, bytes/s: several MiB sit in the kernel's
                        # buffers of a client that never reads before weir's
                        # own buffer reaches high water and frames are dropped
TMO = 20                # socket timeout: nothing waits forever


def fanout_line(seq):
    """The feed's line SEQ: "999999 SEQ PAYLOAD\n", 500 to 1000 bytes."""
    off, n = _fan_shape(FANOUT_ID, seq)
    off %= 3200
    return b"%d %d %s\n" % (FANOUT_ID, seq, _FAN_ALPHA[off:off + 494 + 6 * n])

# ------------------------------------------------------------------ drive


class Drive:
    def __init__(self, d, secs):
        self.dir = d
        self.secs = secs
        self.ports = {}
        for n in NAMES:
            with open(os.path.join(d, "port." + n)) as f:
                self.ports[n] = int(f.read().strip().rsplit(":", 1)[1])
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.errors = []
        self.nerrors = 0
        self.next_id = 0
        # fan-in: one record per connection: [id, whole lines, kind, partial
        # bytes] with kind "whole" (FIN after whole lines), "fin" (FIN in
        # the middle of a line) or "rst" (reset in the middle of a line)
        self.fanin = []
        self.fanin_bytes = 0
        # bytes: sent by the clients that stay; rst_bytes: by those that
        # reset their connection (some may never be read: see check)
        self.proxy = {"conns": 0, "rst": 0, "trips": 0, "bytes": 0, "rst_bytes": 0}
        # steady clients' frames and bytes (hello and bye included)
        self.broker = {"conns": 0, "frames": 0, "bytes": 0,
                       "vanished": 0, "received": 0}
        # [id, whole frames, "fin" or "rst", bytes sent, unfinished bytes]
        self.broker_vanishers = []
        self.fanout = {"conns": 0, "lines": 0, "bytes": 0, "fast_lines": 0,
                       "slow_lines": 0, "slow_gaps": 0, "stalled": 0}
        self.broker_ready = threading.Event()
        self.fast_ready = threading.Event()

    def error(self, what):
        with self.lock:
            self.nerrors += 1
            if len(self.errors) < 30:
                self.errors.append(what)

    def new_id(self):
        with self.lock:
            self.next_id += 1
            return self.next_id

    def connect(self, name, rcvbuf=0):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(TMO)
        s.connect(("127.0.0.1", self.ports[name]))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    @staticmethod
    def reset(s):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()

    @staticmethod
    def read_to_eof(s):
        extra = 0
        while True:
            b = s.recv(65536)
            if not b:
                return extra
            extra += len(b)

    def run(self, name, fn, *args):
        """fn(*args) until stop; an exception is an error and a pause."""
        while not self.stop.is_set():
            try:
                fn(*args)
            except (OSError, ValueError) as e:
                self.error("%s: %s: %s" % (name, fn.__name__, e))
                time.sleep(0.5)

    # --- fan-in: lines into one file

    def fanin_session(self, rng, rate):
        sid = self.new_id()
        n = rng.randint(50, 400)
        data = b"".join(fan_line(sid, q) for q in range(n))
        s = self.connect("fanin")
        try:
            pos = 0
            while pos < len(data):
                k = min(len(data) - pos, rng.choice((1, 7, 64, 500, 1500, 4096)))
                s.sendall(data[pos:pos + k])
                pos += k
                time.sleep(k / rate)
            s.shutdown(socket.SHUT_WR)
            extra = self.read_to_eof(s)
        finally:
            s.close()
        with self.lock:
            self.fanin.append([sid, n, "whole", 0])
            self.fanin_bytes += len(data)
        if extra:
            self.error("fanin: connection %d: %d bytes back from a write-only file" % (sid, extra))

    def fanin_vanish(self, rng):
        sid = self.new_id()
        k = rng.randint(0, 20)
        line = fan_line(sid, k)
        head = len(b"%d %d " % (sid, k))
        cut = rng.randint(head + 1, len(line) - 1)   # never the LF
        data = b"".join(fan_line(sid, q) for q in range(k)) + line[:cut]
        kind = rng.choice(("fin", "rst"))
        s = self.connect("fanin")
        try:
            s.sendall(data)
            if rng.random() < 0.5:
                time.sleep(0.02)
            if kind == "fin":
                # a last line without its delimiter is still a frame
                s.shutdown(socket.SHUT_WR)
                self.read_to_eof(s)
        finally:
            if kind == "rst":
                self.reset(s)
            else:
                s.close()
        with self.lock:
            self.fanin.append([sid, k, kind, cut])
            self.fanin_bytes += len(data)

    # --- proxy: echoes through weir to an echo server

    def proxy_session(self, rng):
        s = self.connect("proxy")
        trips = sent = 0
        try:
            for _ in range(rng.randint(3, 30)):
                blob = rng.randbytes(rng.randint(1, 16384))
                s.sendall(blob)
                got = bytearray()
                while len(got) < len(blob):
                    b = s.recv(len(blob) - len(got))
                    if not b:
                        raise ValueError("EOF after %d of %d echoed bytes" % (len(got), len(blob)))
                    got += b
                if got != blob:
                    raise ValueError("the echo of %d bytes differs" % len(blob))
                trips += 1
                sent += len(blob)
                time.sleep(0.1)
                if self.stop.is_set():
                    break
            s.shutdown(socket.SHUT_WR)
            extra = self.read_to_eof(s)
            if extra:
                raise ValueError("%d bytes after the last echo" % extra)
        finally:
            s.close()
            with self.lock:
                self.proxy["conns"] += 1
                self.proxy["trips"] += trips
                self.proxy["bytes"] += sent

    def proxy_vanish(self, rng):
        s = self.connect("proxy")
        n = 0
        try:
            blob = rng.randbytes(rng.randint(1, 65536))
            s.sendall(blob)
            n = len(blob)
            if rng.random() < 0.5:
                s.recv(rng.randint(1, 4096))
        finally:
            self.reset(s)
            with self.lock:
                self.proxy["conns"] += 1
                self.proxy["rst"] += 1
                self.proxy["rst_bytes"] += n

    # --- broker: netstrings to every other client

    @staticmethod
    def ns(payload):
        return b"%d:%s," % (len(payload), payload)

    def broker_steady(self, me, ids, rng, joined, sent, got, bad):
        """One steady client: join, send frames until stop, then "bye"."""
        s = self.connect("broker")
        others = [i for i in ids if i != me]
        state = {"hello": set(), "bye": set(), "frames": {}, "buf": b""}
        got[me] = state

        def reader():
            buf = b""
            try:
                while len(state["bye"]) < len(others):
                    b = s.recv(65536)
                    if not b:
                        break
                    buf += b
                    while True:
                        i = buf.find(b":")
                        if i < 0:
                            break
                        n = int(buf[:i])
                        if len(buf) < i + n + 2:
                            break
                        if buf[i + n + 1:i + n + 2] != b",":
                            raise ValueError("a malformed netstring")
                        self.broker_frame(me, buf[i + 1:i + n + 1], state, bad)
                        buf = buf[i + n + 2:]
            except (OSError, ValueError) as e:
                bad.append("broker client %d: %s" % (me, e))
            state["buf"] = buf

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        frames = nbytes = 0
        deadline = time.monotonic() + TMO
        # join: say hello until every other steady client has been heard
        # (then all are admitted, and every frame from now on reaches all)
        while not joined.is_set():
            if time.monotonic() > deadline:
                bad.append("broker client %d: heard %d of the %d others" % (me, len(state["hello"]), len(others)))
                break
            f = self.ns(b"hello %d" % me)
            s.sendall(f)
            frames += 1
            nbytes += len(f)
            time.sleep(0.05)
        seq = 0
        while not self.stop.is_set():
            nf = rng.randint(1, 5)
            batch = b"".join(self.ns(fan_line(me, seq + j)[:-1]) for j in range(nf))
            # cut anywhere: weir reassembles the frames
            pos = 0
            while pos < len(batch):
                step = rng.randint(1, len(batch))
                s.sendall(batch[pos:pos + step])
                pos += step
            seq += nf
            frames += nf
            nbytes += len(batch)
            time.sleep(0.02)
        f = self.ns(b"bye %d" % me)
        s.sendall(f)
        frames += 1
        nbytes += len(f)
        sent[me] = seq
        t.join(TMO)
        if t.is_alive():
            bad.append("broker client %d: heard bye from %d of %d others" % (me, len(state["bye"]), len(others)))
        s.close()
        with self.lock:
            self.broker["conns"] += 1
            self.broker["frames"] += frames
            self.broker["bytes"] += nbytes

    def broker_frame(self, me, p, state, bad):
        words = p.split(b" ", 2)
        if words[0] in (b"hello", b"bye") and len(words) == 2:
            who = int(words[1])
            if who == me:
                bad.append("broker client %d got its own %r" % (me, p))
            state[words[0].decode()].add(who)
            return
        who, seq = int(words[0]), int(words[1])
        if p != fan_line(who, seq)[:-1]:
            bad.append("broker client %d: torn frame %r" % (me, p[:60]))
            return
        if who == me:
            bad.append("broker client %d got its own frame %d" % (me, seq))
            return
        have = state["frames"].get(who, 0)
        if seq != have:
            bad.append("broker client %d: frame %d of client %d after %d frames" % (me, seq, who, have))
        state["frames"][who] = max(have, seq + 1)
        with self.lock:
            self.broker["received"] += 1

    def broker_vanish(self, rng):
        vid = 100000 + self.new_id()
        k = rng.randint(0, 10)
        whole = b"".join(self.ns(fan_line(vid, q)[:-1]) for q in range(k))
        last = self.ns(fan_line(vid, k)[:-1])
        cut = rng.randint(1, len(last) - 1)   # never the ","
        kind = rng.choice(("fin", "rst"))
        s = self.connect("broker")
        try:
            s.sendall(whole + last[:cut])
            if rng.random() < 0.5:
                time.sleep(0.02)
            if kind == "fin":
                # the end in the middle of a frame is a protocol error:
                # weir closes this connection alone (reading what the
                # others sent meanwhile, so that our close is not a reset)
                s.shutdown(socket.SHUT_WR)
                self.read_to_eof(s)
        finally:
            if kind == "rst":
                self.reset(s)
            else:
                s.close()
        with self.lock:
            self.broker["conns"] += 1
            self.broker["vanished"] += 1
            self.broker_vanishers.append([vid, k, kind, len(whole) + cut, cut])

    # --- fan-out: a fed stream to every client, --slow drop

    def fanout_feed(self, rate):
        fd = os.open(os.path.join(self.dir, "feed"), os.O_WRONLY)
        self.fast_ready.wait(TMO)
        seq = nbytes = 0
        t0 = time.monotonic()
        try:
            while not self.stop.is_set():
                chunk = b"".join(fanout_line(seq + j) for j in range(20))
                mv = memoryview(chunk)
                while mv:
                    mv = mv[os.write(fd, mv):]
                seq += 20
                nbytes += len(chunk)
                ahead = nbytes / rate - (time.monotonic() - t0)
                if ahead > 0:
                    time.sleep(ahead)
        finally:
            os.close(fd)
            with self.lock:
                self.fanout["lines"] = seq
                self.fanout["bytes"] = nbytes

    def fanout_read(self, s, what, limit, slow_until, bad):
        """Read whole lines of the feed, in order, gaps allowed (frames
        dropped for us): 5 KiB/s until slow_until, then as fast as they
        come; return (lines, gaps)."""
        buf = b""
        last = None
        lines = gaps = 0
        t0 = time.monotonic()
        while not limit():
            slow = time.monotonic() < slow_until
            try:
                b = s.recv(512 if slow else 65536)
            except socket.timeout:
                continue
            if not b:
                break
            buf += b
            *ls, buf = buf.split(b"\n")
            for ln in ls:
                w = ln.split(b" ", 2)
                seq = int(w[1]) if len(w) > 1 and w[1].isdigit() else -1
                if seq < 0 or ln + b"\n" != fanout_line(seq):
                    bad.append("fanout %s: torn line %r" % (what, ln[:60]))
                    return lines, gaps
                if last is not None and seq <= last:
                    bad.append("fanout %s: line %d after %d" % (what, seq, last))
                if last is not None and seq > last + 1:
                    gaps += 1
                last = seq
                lines += 1
            if slow:
                time.sleep(0.1)
            if time.monotonic() - t0 > self.secs + 3 * TMO:
                break
        return lines, gaps

    def fanout_fast(self, bad):
        """The consumer that keeps up: every line from the first, in order."""
        s = self.connect("fanout")
        s.settimeout(0.5)
        with self.lock:
            self.fanout["conns"] += 1
        self.fast_ready.set()
        buf = b""
        last = -1
        stopped = None
        try:
            while True:
                if self.stop.is_set():
                    # the feed has ended: stop once every line is in
                    stopped = stopped or time.monotonic()
                    fl = self.fanout["lines"]
                    if (fl and self.fanout["fast_lines"] >= fl) or time.monotonic() - stopped > TMO:
                        break
                try:
                    b = s.recv(65536)
                except socket.timeout:
                    continue
                if not b:
                    bad.append("fanout fast reader: EOF")
                    break
                buf += b
                *ls, buf = buf.split(b"\n")
                for ln in ls:
                    w = ln.split(b" ", 2)
                    seq = int(w[1]) if len(w) > 1 and w[1].isdigit() else -1
                    if seq < 0 or ln + b"\n" != fanout_line(seq):
                        bad.append("fanout fast reader: torn line %r" % ln[:60])
                        return
                    if seq != last + 1:
                        bad.append("fanout fast reader: line %d after %d" % (seq, last))
                        return
                    last = seq
                    self.fanout["fast_lines"] += 1
        finally:
            s.close()

    def fanout_slow(self, rng, bad, never):
        """A consumer that reads 5 KiB/s for 70% of its 5-15 s and then
        catches up (never: does not read at all), then goes with a close
        or a reset."""
        s = self.connect("fanout", rcvbuf=4096)
        with self.lock:
            self.fanout["conns"] += 1
            if never:
                self.fanout["stalled"] += 1
        start = time.monotonic()
        until = start + rng.uniform(5, 15)
        try:
            if never:
                while time.monotonic() < until and not self.stop.is_set():
                    time.sleep(0.1)
            else:
                s.settimeout(0.5)
                lines, gaps = self.fanout_read(
                    s, "slow reader",
                    lambda: time.monotonic() >= until or self.stop.is_set(),
                    start + (until - start) * 0.7, bad)
                with self.lock:
                    self.fanout["slow_lines"] += lines
                    self.fanout["slow_gaps"] += gaps
        finally:
            if rng.random() < 0.5:
                self.reset(s)
            else:
                s.close()

    # --- the lot

    def vanisher(self, rng):
        self.broker_ready.wait(TMO)
        while not self.stop.is_set():
            what = rng.choice((self.fanin_vanish, self.proxy_vanish, self.broker_vanish))
            try:
                what(rng)
            except (OSError, ValueError) as e:
                self.error("vanisher: %s: %s" % (what.__name__, e))
            time.sleep(rng.uniform(0.05, 0.25))

    def main(self):
        bad = []
        threads = []

        def spawn(fn, *args):
            t = threading.Thread(target=fn, args=args, daemon=True)
            t.start()
            threads.append(t)

        # the fan-out's fast reader first, then its feed
        spawn(self.fanout_fast, bad)
        spawn(self.fanout_feed, FANOUT_RATE)
        # broker: three steady clients
        ids = [1, 2, 3]
        got, sent = {}, {}
        joined = threading.Event()
        bthreads = []
        for i in ids:
            t = threading.Thread(target=self.broker_steady,
                                 args=(i, ids, random.Random(i), joined, sent, got, bad),
                                 daemon=True)
            t.start()
            bthreads.append(t)
        # every steady client has heard every other
        deadline = time.monotonic() + TMO
        while time.monotonic() < deadline and not (
                len(got) == len(ids) and all(len(g["hello"]) == len(ids) - 1 for g in got.values())):
            time.sleep(0.05)
        joined.set()
        self.broker_ready.set()
        for k in range(4):
            spawn(self.run, "fanin", self.fanin_session, random.Random(10 + k), 20 * 1024)
        for k in range(3):
            spawn(self.run, "proxy", self.proxy_session, random.Random(20 + k))
        spawn(self.run, "fanout", self.fanout_slow, random.Random(30), bad, False)
        spawn(self.run, "fanout", self.fanout_slow, random.Random(31), bad, True)
        spawn(self.vanisher, random.Random(40))

        t0 = time.monotonic()
        while time.monotonic() - t0 < self.secs:
            time.sleep(0.2)
        self.stop.set()
        deadline = time.monotonic() + 3 * TMO
        for t in threads + bthreads:
            t.join(max(0.0, deadline - time.monotonic()))
            if t.is_alive():
                bad.append("a client thread is stuck (%s)" % t.name)
        # broker: every steady client must have every frame of every other
        # steady client and of every client that vanished, in order
        for me, st in got.items():
            for who in ids:
                if who != me and st["frames"].get(who, 0) != sent.get(who, -1):
                    bad.append("broker client %d got %d of client %d's %s frames"
                               % (me, st["frames"].get(who, 0), who, sent.get(who, "?")))
            for vid, k, kind, _, _ in self.broker_vanishers:
                n = st["frames"].get(vid, 0)
                if n > k or (kind == "fin" and n != k):
                    bad.append("broker client %d got %d of %s-vanished client %d's %d whole frames"
                               % (me, n, kind, vid, k))
            if st["buf"]:
                bad.append("broker client %d: %d bytes of a torn frame" % (me, len(st["buf"])))
        # what each vanished client got through (the same for every steady
        # client: a frame goes to all or, in a reset, was never read)
        self.broker["through"] = {}
        for vid, k, kind, _, _ in self.broker_vanishers:
            ns = {st["frames"].get(vid, 0) for st in got.values()}
            if len(ns) != 1:
                bad.append("broker: the steady clients got %s frames of vanished client %d" % (sorted(ns), vid))
            self.broker["through"][str(vid)] = max(ns) if ns else 0
        if self.fanout["fast_lines"] != self.fanout["lines"]:
            bad.append("fanout fast reader got %d of %d lines"
                       % (self.fanout["fast_lines"], self.fanout["lines"]))
        for b in bad:
            self.error(b)
        out = {"seconds": self.secs, "errors": self.errors, "nerrors": self.nerrors,
               "fanin": self.fanin, "fanin_bytes": self.fanin_bytes, "proxy": self.proxy,
               "broker": self.broker, "broker_vanishers": self.broker_vanishers,
               "fanout": self.fanout}
        write_atomic(os.path.join(self.dir, "drive.json"), json.dumps(out))
        return 0


# ------------------------------------------------------------------ check


def stats_of(path):
    with open(path, "rb") as f:
        for ln in f:
            if ln.startswith(b"{"):
                return json.loads(ln)
    return None


def check_fanin(path, sessions):
    """Every line whole and exactly once, each connection's in order, and
    exactly the lines its client finished: a connection that ended (FIN)
    in the middle of a line delivers that piece as its last line (a last
    line without delimiter at EOF is a frame), a reset one does not. A
    reset may also take lines still unread in the kernel with it (TCP
    allows that): those are counted apart, as short, not as lost."""
    by = {s[0]: s for s in sessions}
    nextseq = {}
    torn = dup = reord = lines = 0
    with open(path, "rb") as f:
        for ln in f:
            lines += 1
            if not ln.endswith(b"\n"):
                torn += 1
                continue
            w = ln.split(b" ", 2)
            try:
                sid, seq = int(w[0]), int(w[1])
            except (ValueError, IndexError):
                torn += 1
                continue
            s = by.get(sid)
            ok = s is not None and (
                (seq < s[1] and ln == fan_line(sid, seq)) or
                (s[2] == "fin" and seq == s[1] and ln == fan_line(sid, seq)[:s[3]] + b"\n"))
            if not ok:
                torn += 1
                continue
            want = nextseq.get(sid, 0)
            if seq < want:
                dup += 1 if seq == want - 1 else 0
                reord += 0 if seq == want - 1 else 1
            elif seq > want:
                reord += 1
            nextseq[sid] = max(want, seq + 1)
    lost = short = 0
    for s in sessions:
        want = s[1] + (1 if s[2] == "fin" else 0)
        miss = max(0, want - nextseq.get(s[0], 0))
        if s[2] == "rst":
            short += miss
        else:
            lost += miss
    return torn, lost, dup, reord, lines, short


def rss_table(path, secs):
    with open(path) as f:
        head = f.readline().strip().split(",")
        rows = [[float(x) if x else None for x in ln.strip().split(",")] for ln in f if ln.strip()]
    base_t = 60.0 if secs >= 180 else secs / 3.0
    out, fails = [], []
    for j, name in enumerate(head[1:], 1):
        col = [(r[0], r[j]) for r in rows if r[j] is not None]
        inrun = [v for t, v in col if t <= secs]
        base = [v for t, v in col if t >= base_t]
        if not inrun or not base:
            fails.append("%s: no RSS samples" % name)
            continue
        b, e, m = base[0], inrun[-1], max(v for _, v in col)
        ch = (e - b) / b * 100
        out.append((name, b, e, m, ch, len(col)))
        if ch > 10:
            fails.append("%s: RSS grew %.1f%% (%d KiB at %.0f s, %d KiB at the end)" % (name, ch, b, base_t, e))
    return out, fails, base_t, len(rows)


def check(d, secs):
    secs = float(secs)
    with open(os.path.join(d, "drive.json")) as f:
        r = json.load(f)
    fails = ["client: %s" % e for e in r["errors"]]
    if r["nerrors"] > len(r["errors"]):
        fails.append("client: %d more errors" % (r["nerrors"] - len(r["errors"])))
    st = {}
    for n in NAMES:
        with open(os.path.join(d, n + ".status")) as f:
            code = f.read().strip()
        if code != "143":
            fails.append("%s: exit status %s after SIGTERM, not 143" % (n, code))
        st[n] = stats_of(os.path.join(d, n + ".err"))
        if st[n] is None:
            fails.append("%s: no --stats=json line" % n)

    def expect(what, got, want):
        if got != want:
            fails.append("%s: %s, expected %s" % (what, got, want))

    def within(what, got, lo, hi):
        if not lo <= got <= hi:
            fails.append("%s: %s, expected %s to %s" % (what, got, lo, hi))

    # fan-in
    ses = r["fanin"]
    torn, lost, dup, reord, lines, short = check_fanin(os.path.join(d, "fanin.out"), ses)
    size = os.path.getsize(os.path.join(d, "fanin.out"))
    nfin = sum(1 for s in ses if s[2] == "fin")
    nrst = sum(1 for s in ses if s[2] == "rst")
    if torn or lost or dup or reord:
        fails.append("fanin: torn %d, lost %d, duplicated %d, reordered %d lines" % (torn, lost, dup, reord))
    expect("fanin: lines in the file", lines, sum(s[1] for s in ses) + nfin - short)
    s = st["fanin"]
    if s:
        L, R = s["left"], s["right"]
        expect("fanin: connections", L["connections"], len(ses))
        # what the reset connections sent may not all have been read
        rst_bytes = sum(sum(len(fan_line(x[0], q)) for q in range(x[1])) + x[3]
                        for x in ses if x[2] == "rst")
        within("fanin: bytes in", L["bytes_in"], r["fanin_bytes"] - rst_bytes, r["fanin_bytes"])
        expect("fanin: frames in", L["frames_in"], lines)
        expect("fanin: frames out", R["frames_out"], lines)
        expect("fanin: bytes out", R["bytes_out"], size)
        within("fanin: bytes discarded (reset mid-line)", L["discarded"], 0,
               sum(x[3] for x in ses if x[2] == "rst"))
        expect("fanin: errors (resets)", L["errors"], nrst)
        expect("fanin: bytes in + LF added = out + undelivered + discarded",
               L["bytes_in"] + nfin, R["bytes_out"] + R["undelivered"] + L["discarded"])
    # proxy
    p = r["proxy"]
    s = st["proxy"]
    if s:
        L, R = s["left"], s["right"]
        expect("proxy: connections", L["connections"], p["conns"])
        expect("proxy: upstream connections", R["connections"], p["conns"])
        within("proxy: bytes in", L["bytes_in"], p["bytes"], p["bytes"] + p["rst_bytes"])
        expect("proxy: client -> echo: in = out + undelivered + discarded",
               L["bytes_in"], R["bytes_out"] + R["undelivered"] + L["discarded"])
        expect("proxy: echo -> client: in = out + undelivered + discarded",
               R["bytes_in"], L["bytes_out"] + L["undelivered"] + R["discarded"])
    # broker
    b = r["broker"]
    bv = r["broker_vanishers"]
    through = b.get("through", {})
    s = st["broker"]
    if s:
        L = s["left"]
        fin = [v for v in bv if v[2] == "fin"]
        rst = [v for v in bv if v[2] == "rst"]
        expect("broker: connections", L["connections"], b["conns"])
        expect("broker: frames in", L["frames_in"],
               b["frames"] + sum(through.get(str(v[0]), 0) for v in bv))
        base = b["bytes"] + sum(v[3] for v in fin)
        within("broker: bytes in", L["bytes_in"], base, base + sum(v[3] for v in rst))
        base = sum(v[4] for v in fin)
        within("broker: bytes discarded (unfinished frames)", L["discarded"], base,
               base + sum(v[4] for v in rst))
        expect("broker: frames dropped", L["dropped"], 0)
    # fan-out
    o = r["fanout"]
    s = st["fanout"]
    if s:
        L, R = s["left"], s["right"]
        expect("fanout: connections", L["connections"], o["conns"])
        expect("fanout: feed bytes in", R["bytes_in"], o["bytes"])
        expect("fanout: feed frames in", R["frames_in"], o["lines"])
        if L["dropped"] <= 0:
            fails.append("fanout: no frame dropped for the slow consumers (--slow drop)")

    # RSS
    table, rfails, base_t, nsamp = rss_table(os.path.join(d, "rss.csv"), secs)
    fails += rfails
    print("   RSS of each weir (KiB, VmRSS every second, %d samples; baseline at %.0f s%s)"
          % (nsamp, base_t, "" if secs >= 180 else ": one third of a run shorter than 3 min"))
    print("   %-8s %10s %10s %10s %9s" % ("weir", "baseline", "end", "max", "change"))
    for name, base, end, top, ch, _ in table:
        print("   %-8s %10d %10d %10d %+8.1f%%" % (name, base, end, top, ch))
    # traffic
    conns = len(ses) + p["conns"] + b["conns"] + o["conns"]
    frames = lines + p["trips"] + b["frames"] + sum(v[1] for v in bv) + o["lines"]
    nbytes = (r["fanin_bytes"] + 2 * p["bytes"] + p["rst_bytes"] + b["bytes"]
              + sum(v[3] for v in bv) + o["bytes"])
    print("   traffic: %d connections, %d frames, %.1f MiB sent by the clients and the feed"
          % (conns, frames, nbytes / 1048576))
    print("     fanin  %6d connections (%d reset, %d closed mid-line), %d lines, %.1f MiB;"
          " %d lines unread when their connection was reset"
          % (len(ses), nrst, nfin, lines, r["fanin_bytes"] / 1048576, short))
    print("     proxy  %6d connections (%d reset), %d echoes, %.1f MiB each way"
          % (p["conns"], p["rst"], p["trips"], p["bytes"] / 1048576))
    vsent = sum(v[1] for v in bv)
    vgot = sum(through.get(str(v[0]), 0) for v in bv)
    print("     broker %6d connections (%d vanished mid-frame), %d frames, %d delivered to the steady clients;"
          " %d of the vanished clients' %d whole frames unread when they were reset"
          % (b["conns"], b["vanished"], b["frames"] + vgot, b["received"], vsent - vgot, vsent))
    if s:
        dropped = st["fanout"]["left"]["dropped"]
    else:
        dropped = "?"
    print("     fanout %6d connections (%d never reading), %d lines fed (%.1f MiB), %s dropped for the"
          " slow consumers (the one reading got %d lines, %d gaps)"
          % (o["conns"], o["stalled"], o["lines"], o["bytes"] / 1048576, dropped,
             o["slow_lines"], o["slow_gaps"]))
    for f in fails:
        print("FAIL %s" % f)
    return 1 if fails else 0


def main(argv):
    if len(argv) == 4 and argv[1] == "drive":
        return Drive(argv[2], float(argv[3])).main()
    if len(argv) == 4 and argv[1] == "check":
        return check(argv[2], argv[3])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
