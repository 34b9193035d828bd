#!/usr/bin/env python3
"""WebSocket peers for tests/ws.bats, each bounded in time (--timeout,
20 s unless told; a client out of time says so on standard error and exits
1, a server simply ends).  Well-behaved peers use the websockets library
(10.x, asyncio API); the raw ones speak RFC 6455 over a plain socket, to
do what a library will not.  Every line of output is flushed at once.

What a peer prints (one a line):
  text LEN DIGEST, binary LEN DIGEST
                a message received (DIGEST: SHA-256 of the payload, its
                first 16 hex digits; LEN in bytes)
  close CODE    the close code the peer sent (1005: none in its frame,
                1006: the connection ended without a close frame), then
                `reason TEXT` when it gave one
  ping P, pong P  control frames (raw peers; P escaped as \\xNN)
  status CODE   an HTTP status that was not 101 (a refused handshake)
  eof, reset, timeout
                raw peers: how the TCP connection ended after everything
                else (the peer closed it, reset it, or was still open
                when --wait ran out)

SPEC, a message or a frame:
  text:STR      a text message of STR (UTF-8; bytes given on the command
                line that are not UTF-8 stay as they are)
  text#N        N bytes of text: ASCII letters in a fixed pattern
  binary#N      N bytes of binary: 0, 1, ..., 255, 0, 1, ...
  binary:STR, text%HEX, binary%HEX
                the bytes of STR; bytes in hexadecimal
Raw peers also take the other frames and steps:
  cont:STR, cont#N, cont%HEX, ping:STR, pong:STR
  close         a close frame without a payload
  close:CODE[:REASON], close%HEX
  opN:STR       a frame with opcode N (0-15)
  MOD+FRAME     modifiers, any number: nofin (FIN clear), unmasked (from a
                client), masked (from a server), rsv1, rsv2, rsv3
  wire%HEX      bytes on the wire as they are
  sleep:SEC     pause (ordering between frames, never readiness)
  shut          shutdown(SHUT_WR)
  expect:close  read (printing as above) until a close frame comes; pings
                are answered, the close is not (yet)
  expect:N      read until N more messages have come

Subcommands:
  server READY [--path P] [--subprotocol S]... [--echo] [--send SPEC]...
         [--close-after N [--close CODE] [--reason R]] [--headers FILE]
         [--read-delay SEC] [--read-after FILE] [--count-file FILE]
         [--quiet] [--once] [--cert PEM --key KEY]
      listen on 127.0.0.1 port 0 and write the port to READY
      (atomically).  Per connection: write its request (`GET PATH` and
      the headers as received, one a line) to --headers, atomically; a
      path other than --path gets 404; agree to the first of --subprotocol
      the client offers; send the --send messages; wait --read-delay or
      for --read-after, then print each message received (not with
      --quiet), echoing it with --echo; after --close-after messages close
      with --close (1000); print the close code the client sent.
      --count-file: "MESSAGES BYTES" received, written when a connection
      ends.  --once: end after the first connection.  wss with --cert.
  client URL [--send SPEC]... [--expect N] [--close CODE] [--reason R]
         [--subprotocol S]... [--print-subprotocol] [--origin O]
         [--header 'N: V']... [--wait SEC] [--expect-status]
         [--connected FILE] [--start-file FILE] [--hold-file FILE]
         [--read-delay SEC] [--read-after FILE] [--rcvbuf N] [--bind IP]
         [--quiet] [--count-file FILE] [--ca PEM | --insecure]
      connect (from --bind; URL @FILE: the first line of the ready file
      FILE, once it is there), writing --connected (our port) once the
      handshake is done; wait for
      --start-file, send the --send messages, then print each message
      received.  With --expect N: after N messages wait for --hold-file,
      close with --close (1000) and print the code the server answered;
      without: read until the server closes and print its code.  --wait:
      the longest wait for one message (10 s; then `timeout`, exit 1).
      A refused handshake is an error, unless --expect-status: then print
      `status CODE` (`status none`: closed without an HTTP answer), exit 0
      (a handshake that succeeds is then the error).
  raw URL [STEP]... [--subprotocol S] [--no-pong] [--no-close-reply]
         [--wait SEC] [--expect-status]
      handshake over a plain socket, run the STEPs (frames masked unless
      `unmasked+`), then read until the server closes TCP or --wait
      passes: print what comes, answer pings with pongs (not with
      --no-pong) and the server's close with one (unless one was sent, or
      --no-close-reply), then `eof`, `reset` or `timeout`.  A status that
      is not 101: `status CODE` and the end (exit 1 unless --expect-status).
  rawserver READY [STEP]... [--subprotocol S] [--status CODE] [--headers
         FILE] [--no-pong] [--no-close-reply] [--wait SEC]
      accept one connection on 127.0.0.1 port 0, answer its handshake (101,
      with Sec-WebSocket-Protocol: S if given; or the error --status),
      then as raw (frames unmasked unless `masked+`).
  http URL [--upgrade] [--partial] [--pad N] [--method M] [--version V]
         [--request TEXT] [--show-headers] [--wait SEC]
      send a plain HTTP request to URL's path (with --upgrade a valid
      WebSocket upgrade; --partial: without its blank line, so never
      finished; --pad N: an X-Pad header of N bytes; --request: exactly
      TEXT, Python escapes allowed), print the status line weir answered
      (and its header lines with --show-headers), then eof, reset or
      timeout.
  stall URL [--wait SEC]
      as `http URL --partial`: a request head that never ends.
  hold READY --until FILE [--match REGEX]
      an HTTP server on 127.0.0.1 port 0 (port in READY) that answers
      every request with 204, but only once FILE has a whole line
      matching REGEX (any line by default): a page's subresource from it
      holds the page's load event, and headless Chromium's virtual time,
      until then.
  digest [--bare] [--lines-from FILE] SPEC...
      print what a peer prints for each message (--bare: LEN DIGEST),
      then for each line of FILE as a text message.
  gen [--lines | --ns] SPEC...
      write the payloads to standard output: as they are, one a line
      (newline after each), or as netstrings.
  unns
      read netstrings on standard input, print LEN DIGEST of each.
"""

import argparse
import asyncio
import base64
import hashlib
import http
import os
import re
import select
import signal
import socket
import ssl
import sys
import time
import urllib.parse

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
LETTERS = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
OPS = {"cont": 0, "text": 1, "binary": 2, "close": 8, "ping": 9, "pong": 10}
NAMES = {v: k for k, v in OPS.items()}
MODS = ("nofin", "unmasked", "masked", "rsv1", "rsv2", "rsv3")


class PeerError(Exception):
    pass


# --- output -------------------------------------------------------------


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def digest(data):
    return "%d %s" % (len(data), hashlib.sha256(data).hexdigest()[:16])


def escape(data):
    return "".join(chr(b) if 0x20 < b < 0x7f and b != 0x5c else "\\x%02x" % b
                   for b in data)


def atomic_write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def print_close(code, reason):
    out("close %d" % code)
    if reason:
        out("reason %s" % reason)


# --- specs --------------------------------------------------------------


def text_pattern(n):
    return bytes(LETTERS[(i * 7 + i // 52) % 52] for i in range(n))


def binary_pattern(n):
    return bytes(i % 256 for i in range(n))


def parse_spec(spec):
    """A SPEC as a dict: type frame (op, payload, mods), or a step."""
    mods = set()
    while "+" in spec.split(":", 1)[0].split("%", 1)[0].split("#", 1)[0]:
        mod, spec = spec.split("+", 1)
        if mod not in MODS:
            raise PeerError("unknown modifier %r" % mod)
        mods.add(mod)
    name, sep, rest = spec, "", ""
    for i, c in enumerate(spec):
        if c in ":#%":
            name, sep, rest = spec[:i], c, spec[i + 1:]
            break
    if name in ("sleep", "expect", "shut", "wire"):
        if mods:
            raise PeerError("no modifiers on %r" % spec)
        if name == "sleep" and sep == ":":
            return {"type": "sleep", "sec": float(rest)}
        if name == "expect" and sep == ":":
            if rest == "close":
                return {"type": "expect", "what": "close"}
            return {"type": "expect", "what": int(rest)}
        if name == "shut" and sep == "":
            return {"type": "shut"}
        if name == "wire" and sep == "%":
            return {"type": "wire", "data": bytes.fromhex(rest)}
        raise PeerError("bad step %r" % spec)
    if name in OPS:
        op = OPS[name]
    elif name.startswith("op") and name[2:].isdigit() and int(name[2:]) < 16:
        op = int(name[2:])
    else:
        raise PeerError("bad spec %r" % spec)
    if sep == ":":
        if op == 8:
            code, _, reason = rest.partition(":")
            payload = int(code).to_bytes(2, "big") + reason.encode()
        else:
            payload = os.fsencode(rest)
    elif sep == "#":
        n = int(rest)
        payload = binary_pattern(n) if op == 2 else text_pattern(n)
    elif sep == "%":
        payload = bytes.fromhex(rest)
    elif op == 8:
        payload = b""
    else:
        raise PeerError("bad spec %r: no payload" % spec)
    return {"type": "frame", "op": op, "payload": payload, "mods": mods,
            "kind": NAMES.get(op, "op%d" % op)}


def message(spec):
    """A --send SPEC: (kind, payload) of a text or binary message."""
    s = parse_spec(spec)
    if s["type"] != "frame" or s["op"] not in (1, 2) or s["mods"]:
        raise PeerError("%r is not a text or binary message" % spec)
    return s["kind"], s["payload"]


def to_lib(kind, payload):
    """What websockets sends: str for text, bytes for binary."""
    if kind == "text":
        try:
            return payload.decode("utf-8")
        except UnicodeDecodeError:
            raise PeerError("text that is not UTF-8: use raw")
    return payload


def from_lib(msg):
    if isinstance(msg, str):
        return "text", msg.encode("utf-8")
    return "binary", bytes(msg)


def parse_url(url):
    u = urllib.parse.urlsplit(url)
    if u.scheme not in ("ws", "wss") or not u.hostname:
        raise PeerError("bad URL %r" % url)
    port = u.port or (443 if u.scheme == "wss" else 80)
    path = u.path or "/"
    if u.query:
        path += "?" + u.query
    return u.scheme, u.hostname, port, path


async def await_file(path):
    while not os.path.exists(path):
        await asyncio.sleep(0.01)


# --- raw frames ---------------------------------------------------------


def mask_bytes(data, key):
    n = len(data)
    if n == 0:
        return b""
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(k, "big")).to_bytes(
        n, "big")


def encode_frame(op, payload, fin=True, mask=False, rsv=0):
    b0 = (0x80 if fin else 0) | (rsv << 4) | op
    m = 0x80 if mask else 0
    n = len(payload)
    if n < 126:
        head = bytes([b0, m | n])
    elif n < 65536:
        head = bytes([b0, m | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([b0, m | 127]) + n.to_bytes(8, "big")
    if mask:
        key = os.urandom(4)
        return head + key + mask_bytes(payload, key)
    return head + payload


class Raw:
    """One side of a WebSocket connection over a blocking socket."""

    def __init__(self, sock, server, args, buf=b""):
        self.sock = sock
        self.server = server        # our role: frames we read are masked
        self.buf = bytearray(buf)
        self.no_pong = args.no_pong
        self.no_close_reply = args.no_close_reply
        self.wait = args.wait
        self.sent_close = False
        self.got_close = None       # the peer's close code
        self.partial = None         # (kind, bytearray) of a fragmented message
        self.messages = 0

    def send(self, data):
        self.sock.sendall(data)

    def send_frame(self, op, payload, mods=()):
        if self.server:
            mask = "masked" in mods
        else:
            mask = "unmasked" not in mods
        rsv = (4 if "rsv1" in mods else 0) | (2 if "rsv2" in mods else 0) | \
            (1 if "rsv3" in mods else 0)
        self.send(encode_frame(op, payload, "nofin" not in mods, mask, rsv))
        if op == 8:
            self.sent_close = True

    def need(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout()
            self.sock.settimeout(left)
            data = self.sock.recv(1 << 20)
            if not data:
                raise EOFError()
            self.buf += data

    def take(self, n, deadline):
        self.need(n, deadline)
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def read_frame(self, deadline):
        b0, b1 = self.take(2, deadline)
        n = b1 & 0x7f
        if n == 126:
            n = int.from_bytes(self.take(2, deadline), "big")
        elif n == 127:
            n = int.from_bytes(self.take(8, deadline), "big")
        masked = bool(b1 & 0x80)
        key = self.take(4, deadline) if masked else None
        payload = self.take(n, deadline)
        if masked:
            payload = mask_bytes(payload, key)
        if masked != self.server:
            out("error: %s frame" % ("masked" if masked else "unmasked"))
        if b0 & 0x70:
            out("error: rsv bits %d" % ((b0 >> 4) & 7))
        return bool(b0 & 0x80), b0 & 0x0f, payload

    def handle(self, fin, op, payload, reply_close):
        """Print a frame (a message once whole); answer pings and, if
        reply_close, a close."""
        if op in (1, 2):
            if self.partial is not None:
                out("error: a new message inside a fragmented one")
            self.partial = (NAMES[op], bytearray(payload))
        elif op == 0:
            if self.partial is None:
                out("error: a continuation without a message")
                return
            self.partial[1].extend(payload)
        elif op == 9:
            out("ping %s" % escape(payload))
            if not self.no_pong and not self.sent_close:
                self.send_frame(10, payload)
            return
        elif op == 10:
            out("pong %s" % escape(payload))
            return
        elif op == 8:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            self.got_close = code
            print_close(code, payload[2:].decode("utf-8", "replace"))
            if reply_close:
                self.reply_close()
            return
        else:
            out("error: opcode %d" % op)
            return
        if fin:
            kind, data = self.partial
            self.partial = None
            self.messages += 1
            out("%s %s" % (kind, digest(bytes(data))))

    def reply_close(self):
        if self.got_close is None or self.sent_close or self.no_close_reply:
            return
        code = self.got_close
        payload = b"" if code in (1005, 1006) else code.to_bytes(2, "big")
        try:
            self.send_frame(8, payload)
        except OSError as e:
            out("error: send: %s" % e.strerror)

    def read_until(self, done, reply_close, deadline):
        """Read frames until done(); False: the connection ended first
        (eof, reset or timeout printed).  In the final read (reply_close)
        a server closes TCP once closes went both ways (RFC 6455 7.1.1)."""
        while not done():
            if reply_close and self.server and self.sent_close and \
                    self.got_close is not None:
                self.sock.close()
                out("closed")
                return True
            try:
                fin, op, payload = self.read_frame(deadline)
            except EOFError:
                out("eof")
                return False
            except socket.timeout:
                out("timeout")
                return False
            except ConnectionResetError:
                out("reset")
                return False
            self.handle(fin, op, payload, reply_close)
        return True

    def run(self, steps):
        """The steps, then read until the end of the connection."""
        for st in steps:
            deadline = time.monotonic() + self.wait
            try:
                if st["type"] == "frame":
                    self.send_frame(st["op"], st["payload"], st["mods"])
                elif st["type"] == "wire":
                    self.send(st["data"])
                elif st["type"] == "sleep":
                    time.sleep(st["sec"])
                elif st["type"] == "shut":
                    self.sock.shutdown(socket.SHUT_WR)
                elif st["what"] == "close":
                    if not self.read_until(lambda: self.got_close is not None,
                                           False, deadline):
                        return
                else:
                    want = self.messages + st["what"]
                    if not self.read_until(lambda: self.messages >= want,
                                           False, deadline):
                        return
            except (BrokenPipeError, ConnectionResetError) as e:
                out("error: send: %s" % e.strerror)
                break
        self.reply_close()
        self.read_until(lambda: False, True, time.monotonic() + self.wait)


def read_head(sock, deadline, limit=65536):
    """An HTTP head (up to the blank line) and what came after it."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        if len(buf) > limit:
            raise PeerError("head over %d bytes" % limit)
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout()
        sock.settimeout(left)
        data = sock.recv(65536)
        if not data:
            raise EOFError(buf)
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head.decode("latin-1").split("\r\n"), rest


def header(lines, name):
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == name.lower():
            return v.strip()
    return None


def accept_key(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def tcp_connect(host, port, timeout):
    return socket.create_connection((host, port), timeout=timeout)


def cmd_raw(args):
    _, host, port, path = parse_url(args.url)
    steps = [parse_spec(s) for s in args.steps]
    deadline = time.monotonic() + args.wait
    sock = tcp_connect(host, port, args.wait)
    key = base64.b64encode(os.urandom(16)).decode()
    req = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
           "Sec-WebSocket-Version: 13\r\n" % (path, host, port, key))
    if args.subprotocol:
        req += "Sec-WebSocket-Protocol: %s\r\n" % args.subprotocol
    sock.sendall((req + "\r\n").encode())
    try:
        lines, rest = read_head(sock, deadline)
    except EOFError:
        raise PeerError("connection closed during the handshake")
    status = lines[0].split(" ", 2)
    if len(status) < 2 or status[1] != "101":
        out("status %s" % (status[1] if len(status) > 1 else "?"))
        return 0 if args.expect_status else 1
    if args.expect_status:
        raise PeerError("handshake succeeded: %s" % lines[0])
    if header(lines, "Sec-WebSocket-Accept") != accept_key(key):
        raise PeerError("bad Sec-WebSocket-Accept")
    Raw(sock, False, args, rest).run(steps)
    return 0


def cmd_rawserver(args):
    steps = [parse_spec(s) for s in args.steps]
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(8)
    atomic_write(args.ready, "%d\n" % ls.getsockname()[1])
    sock, _ = ls.accept()
    ls.close()
    deadline = time.monotonic() + args.wait
    try:
        lines, rest = read_head(sock, deadline)
    except EOFError:
        raise PeerError("connection closed during the handshake")
    if args.headers:
        atomic_write(args.headers, "".join(l + "\n" for l in lines))
    if args.status:
        sock.sendall(("HTTP/1.1 %d Refused\r\nContent-Length: 0\r\n"
                      "Connection: close\r\n\r\n" % args.status).encode())
        sock.close()
        return 0
    key = header(lines, "Sec-WebSocket-Key")
    if key is None:
        raise PeerError("no Sec-WebSocket-Key: %r" % lines)
    res = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
           % accept_key(key))
    if args.subprotocol:
        res += "Sec-WebSocket-Protocol: %s\r\n" % args.subprotocol
    sock.sendall((res + "\r\n").encode())
    Raw(sock, True, args, rest).run(steps)
    return 0


def cmd_http(args):
    _, host, port, path = parse_url(args.url)
    if args.request is not None:
        req = args.request.encode("latin-1").decode("unicode_escape").encode(
            "latin-1")
    else:
        head = "%s %s HTTP/%s\r\nHost: %s:%d\r\n" % (
            args.method, path, args.version, host, port)
        if args.upgrade:
            head += ("Upgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                     % base64.b64encode(os.urandom(16)).decode())
        if args.pad:
            head += "X-Pad: %s\r\n" % ("a" * args.pad)
        if not args.partial:
            head += "\r\n"
        req = head.encode()
    sock = tcp_connect(host, port, args.wait)
    try:
        sock.sendall(req)
    except OSError as e:
        out("error: send: %s" % e.strerror)
    deadline = time.monotonic() + args.wait
    buf = b""
    end = "timeout"
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            end = "reset"
            break
        if not data:
            end = "eof"
            break
        buf += data
    if buf:
        lines = buf.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        for line in lines if args.show_headers else lines[:1]:
            out(line)
    out(end)
    return 0


# --- the library's peers --------------------------------------------------


def lib():
    try:
        import websockets
        import websockets.exceptions
    except ImportError:
        raise PeerError("python3-websockets is not installed for %s"
                        % sys.executable)
    return websockets


def server_ssl(args):
    if not args.cert:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    return ctx


async def run_server(args):
    websockets = lib()
    sends = [message(s) for s in args.send]
    done = asyncio.Event()

    async def process_request(path, headers):
        if args.headers:
            atomic_write(args.headers, "GET %s\n" % path + "".join(
                "%s: %s\n" % kv for kv in headers.raw_items()))
        if args.path is not None and path.split("?", 1)[0] != args.path:
            return http.HTTPStatus.NOT_FOUND, [], b"not here\n"
        return None

    async def handler(ws):
        n = nbytes = 0
        try:
            for kind, payload in sends:
                await ws.send(to_lib(kind, payload))
            if args.read_after:
                await await_file(args.read_after)
            if args.read_delay:
                await asyncio.sleep(args.read_delay)
            while True:
                if args.close_after is not None and n >= args.close_after:
                    await ws.close(args.close, args.reason)
                    print_close(ws.close_code, ws.close_reason)
                    break
                msg = await ws.recv()
                kind, payload = from_lib(msg)
                n += 1
                nbytes += len(payload)
                if not args.quiet:
                    out("%s %s" % (kind, digest(payload)))
                if args.echo:
                    await ws.send(msg)
        except websockets.exceptions.ConnectionClosed:
            print_close(ws.close_code, ws.close_reason)
        finally:
            if args.count_file:
                atomic_write(args.count_file, "%d %d\n" % (n, nbytes))
            if args.once:
                done.set()

    server = await websockets.serve(
        handler, "127.0.0.1", 0, process_request=process_request,
        subprotocols=args.subprotocol or None, compression=None,
        ping_interval=None, max_size=None, max_queue=1 if (
            args.read_delay or args.read_after) else 32,
        ssl=server_ssl(args))
    port = server.sockets[0].getsockname()[1]
    atomic_write(args.ready, "%d\n" % port)
    await done.wait()
    server.close()
    await server.wait_closed()
    return 0


def client_ssl(args):
    if args.url.startswith("wss:"):
        ctx = ssl.create_default_context(cafile=args.ca)
        if args.insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx
    return None


async def run_client(args):
    websockets = lib()
    exc = websockets.exceptions
    sends = [message(s) for s in args.send]
    if args.url.startswith("@"):
        # A ready file's first line, once it is there.
        await await_file(args.url[1:])
        with open(args.url[1:]) as f:
            args.url = f.readline().strip()
    _, host, port, _ = parse_url(args.url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if args.rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
    if args.bind:
        sock.bind((args.bind, 0))
    sock.settimeout(args.wait)
    sock.connect((host, port))
    sock.settimeout(None)
    headers = []
    for h in args.header:
        k, _, v = h.partition(":")
        headers.append((k.strip(), v.strip()))
    try:
        ws = await websockets.connect(
            args.url, sock=sock, subprotocols=args.subprotocol or None,
            origin=args.origin, extra_headers=headers, compression=None,
            ping_interval=None, max_size=None, open_timeout=args.wait,
            max_queue=1 if (args.read_delay or args.read_after) else 32,
            ssl=client_ssl(args),
            server_hostname=host if args.url.startswith("wss:") else None)
    except exc.InvalidStatusCode as e:
        if args.expect_status:
            out("status %d" % e.status_code)
            return 0
        raise PeerError("handshake: status %d" % e.status_code)
    except (exc.InvalidMessage, exc.ConnectionClosed, EOFError,
            ConnectionResetError) as e:
        if args.expect_status:
            out("status none")
            return 0
        raise PeerError("handshake: %r" % e)
    if args.expect_status:
        raise PeerError("handshake succeeded")
    if args.connected:
        atomic_write(args.connected, "%d\n" % sock.getsockname()[1])
    if args.print_subprotocol:
        out("subprotocol %s" % (ws.subprotocol or "none"))
    n = nbytes = 0
    try:
        if args.start_file:
            await await_file(args.start_file)
        for kind, payload in sends:
            await ws.send(to_lib(kind, payload))
        if args.read_after:
            await await_file(args.read_after)
        if args.read_delay:
            await asyncio.sleep(args.read_delay)
        while args.expect is None or n < args.expect:
            try:
                msg = await asyncio.wait_for(ws.recv(), args.wait)
            except asyncio.TimeoutError:
                out("timeout")
                return 1
            kind, payload = from_lib(msg)
            n += 1
            nbytes += len(payload)
            if not args.quiet:
                out("%s %s" % (kind, digest(payload)))
        if args.hold_file:
            await await_file(args.hold_file)
        await ws.close(args.close, args.reason)
    except exc.ConnectionClosed:
        pass
    finally:
        if args.count_file:
            atomic_write(args.count_file, "%d %d\n" % (n, nbytes))
    print_close(ws.close_code, ws.close_reason)
    return 0


def cmd_hold(args):
    """An HTTP server whose answers wait for a line of a file."""
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(("127.0.0.1", 0))
    ls.listen(8)
    atomic_write(args.ready, "%d\n" % ls.getsockname()[1])
    pat = re.compile(args.match)
    held = []
    while True:
        r, _, _ = select.select([ls], [], [], 0.01)
        if r:
            conn, _ = ls.accept()
            held.append(conn)
        try:
            with open(args.until, errors="replace") as f:
                lines = [l for l in f if l.endswith("\n")]
        except FileNotFoundError:
            lines = []
        if any(pat.search(l) for l in lines):
            break
    while True:
        for conn in held:
            try:
                conn.sendall(b"HTTP/1.1 204 No Content\r\n"
                             b"Connection: close\r\n\r\n")
            except OSError:
                pass
            conn.close()
        held = []
        conn, _ = ls.accept()
        held.append(conn)


# --- offline ------------------------------------------------------------


def cmd_digest(args):
    items = [message(spec) for spec in args.specs]
    if args.lines_from:
        with open(args.lines_from, "rb") as f:
            items += [("text", line.rstrip(b"\n")) for line in f]
    for kind, payload in items:
        out(digest(payload) if args.bare else "%s %s" % (kind, digest(payload)))
    return 0


def cmd_gen(args):
    w = sys.stdout.buffer
    for spec in args.specs:
        _, payload = message(spec)
        if args.ns:
            w.write(b"%d:%s," % (len(payload), payload))
        elif args.lines:
            if b"\n" in payload:
                raise PeerError("%r has a newline" % spec)
            w.write(payload + b"\n")
        else:
            w.write(payload)
    w.flush()
    return 0


def cmd_unns(args):
    data = sys.stdin.buffer.read()
    while data:
        colon = data.index(b":")
        n = int(data[:colon])
        out(digest(data[colon + 1:colon + 1 + n]))
        if data[colon + 1 + n:colon + 2 + n] != b",":
            raise PeerError("bad netstring")
        data = data[colon + 2 + n:]
    return 0


# --- main ---------------------------------------------------------------


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--timeout", type=float, default=20.0,
                        help="end after this many seconds (20)")
    sub = p.add_subparsers(dest="cmd", required=True)

    sp = sub.add_parser("server", parents=[common])
    sp.add_argument("ready")
    sp.add_argument("--path")
    sp.add_argument("--subprotocol", action="append", default=[])
    sp.add_argument("--echo", action="store_true")
    sp.add_argument("--send", action="append", default=[])
    sp.add_argument("--close-after", type=int)
    sp.add_argument("--close", type=int, default=1000)
    sp.add_argument("--reason", default="")
    sp.add_argument("--headers")
    sp.add_argument("--read-delay", type=float, default=0)
    sp.add_argument("--read-after")
    sp.add_argument("--count-file")
    sp.add_argument("--quiet", action="store_true")
    sp.add_argument("--once", action="store_true")
    sp.add_argument("--cert")
    sp.add_argument("--key")

    sp = sub.add_parser("client", parents=[common])
    sp.add_argument("url")
    sp.add_argument("--send", action="append", default=[])
    sp.add_argument("--expect", type=int)
    sp.add_argument("--close", type=int, default=1000)
    sp.add_argument("--reason", default="")
    sp.add_argument("--subprotocol", action="append", default=[])
    sp.add_argument("--print-subprotocol", action="store_true")
    sp.add_argument("--origin")
    sp.add_argument("--header", action="append", default=[])
    sp.add_argument("--wait", type=float, default=10.0)
    sp.add_argument("--expect-status", action="store_true")
    sp.add_argument("--connected")
    sp.add_argument("--start-file")
    sp.add_argument("--hold-file")
    sp.add_argument("--read-delay", type=float, default=0)
    sp.add_argument("--read-after")
    sp.add_argument("--rcvbuf", type=int)
    sp.add_argument("--bind")
    sp.add_argument("--quiet", action="store_true")
    sp.add_argument("--count-file")
    sp.add_argument("--ca")
    sp.add_argument("--insecure", action="store_true")

    for name in ("raw", "rawserver"):
        sp = sub.add_parser(name, parents=[common])
        sp.add_argument("ready" if name == "rawserver" else "url")
        sp.add_argument("steps", nargs="*")
        sp.add_argument("--subprotocol")
        sp.add_argument("--no-pong", action="store_true")
        sp.add_argument("--no-close-reply", action="store_true")
        sp.add_argument("--wait", type=float, default=10.0)
        if name == "raw":
            sp.add_argument("--expect-status", action="store_true")
        else:
            sp.add_argument("--status", type=int)
            sp.add_argument("--headers")

    for name in ("http", "stall"):
        sp = sub.add_parser(name, parents=[common])
        sp.add_argument("url")
        sp.add_argument("--wait", type=float, default=10.0)
        if name == "http":
            sp.add_argument("--upgrade", action="store_true")
            sp.add_argument("--partial", action="store_true")
            sp.add_argument("--pad", type=int, default=0)
            sp.add_argument("--method", default="GET")
            sp.add_argument("--version", default="1.1")
            sp.add_argument("--request")
            sp.add_argument("--show-headers", action="store_true")

    sp = sub.add_parser("hold", parents=[common])
    sp.add_argument("ready")
    sp.add_argument("--until", required=True)
    sp.add_argument("--match", default="")

    sp = sub.add_parser("digest", parents=[common])
    sp.add_argument("--bare", action="store_true")
    sp.add_argument("--lines-from")
    sp.add_argument("specs", nargs="*")
    sp = sub.add_parser("gen", parents=[common])
    g = sp.add_mutually_exclusive_group()
    g.add_argument("--lines", action="store_true")
    g.add_argument("--ns", action="store_true")
    sp.add_argument("specs", nargs="*")
    sub.add_parser("unns", parents=[common])

    # STEPs may come after options: whatever is left that is not an
    # option is one.
    args, rest = p.parse_known_args()
    for arg in rest:
        if arg.startswith("-") or args.cmd not in ("raw", "rawserver"):
            p.error("unrecognized argument %s" % arg)
        args.steps.append(arg)
    if args.cmd == "stall":
        args.cmd = "http"
        args.upgrade, args.partial, args.pad = True, True, 0
        args.method, args.version, args.request = "GET", "1.1", None
        args.show_headers = False

    is_server = args.cmd in ("server", "rawserver", "hold")

    def on_alarm(signum, frame):
        sys.stdout.flush()
        if not is_server:
            sys.stderr.write("wspeer: %s: timed out after %g s\n"
                             % (args.cmd, args.timeout))
        os._exit(0 if is_server else 1)

    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, args.timeout)
    try:
        if args.cmd == "server":
            return asyncio.run(run_server(args))
        if args.cmd == "client":
            return asyncio.run(run_client(args))
        return {"raw": cmd_raw, "rawserver": cmd_rawserver, "http": cmd_http,
                "hold": cmd_hold, "digest": cmd_digest, "gen": cmd_gen,
                "unns": cmd_unns}[args.cmd](args)
    except (PeerError, OSError, ValueError) as e:
        sys.stderr.write("wspeer: %s: %s\n" % (args.cmd, e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
