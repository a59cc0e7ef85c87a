#!/usr/bin/env python3
"""Malformed-traffic client for the issue-8 memory check.

Loops over a varied mix of malformed requests, each on a fresh connection, from several
threads of ONE process (the GIL keeps it at about one core). Reads responses where there
are any and ignores errors. `--normal` sends plain keep-alive `GET /` instead.

    python3 malformed.py --port 8000 --seconds 1500 --threads 12 [--rate N] [--normal]
"""
import argparse
import collections
import os
import random
import socket
import struct
import sys
import threading
import time

HOST = "127.0.0.1"


def req(line=b"GET / HTTP/1.1", headers=(b"Host: localhost",), body=b"", close=True):
    hs = list(headers)
    if close:
        hs.append(b"Connection: close")
    return line + b"\r\n" + b"".join(h + b"\r\n" for h in hs) + b"\r\n" + body


BIG_HEADERS = [b"X-Pad-%d: %s" % (i, b"a" * 1000) for i in range(70)]  # ~70 KiB head -> 431
MANY_HEADERS = [b"X-H%d: v" % i for i in range(150)]  # > max_headers (100)

# name -> (payload bytes, mode). mode: "send" = send all, shut write, read;
# "half" = send, close without reading; "rst" = send, abortive close;
# "stream" = send, read the error, keep streaming junk; "slow" = send part, wait, close.
CASES = {
    "garbage_line": (b"GARBAGE\r\n\r\n", "send"),
    "no_version": (b"GET /\r\nHost: x\r\n\r\n", "send"),
    "extra_token": (req(b"GET / HTTP/1.1 extra"), "send"),
    "space_in_method": (req(b"G ET / HTTP/1.1"), "send"),
    "bad_version": (req(b"GET / HTTP/x.y"), "send"),
    "lowercase_version": (req(b"GET / http/1.1"), "send"),
    "http2_line": (req(b"GET / HTTP/2.0"), "send"),
    "http2_preface": (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "send"),
    "http3_line": (req(b"GET / HTTP/3.0"), "send"),
    "connect": (req(b"CONNECT example.com:443 HTTP/1.1"), "send"),
    "asterisk_get": (req(b"GET * HTTP/1.1"), "send"),
    "bad_absolute": (req(b"GET ftp://x/ HTTP/1.1"), "send"),
    "bad_authority": (req(b"GET http://exa mple/ HTTP/1.1"), "send"),
    "relative_target": (req(b"GET foo HTTP/1.1"), "send"),
    "host_space": (req(headers=[b"Host: a b"]), "send"),
    "host_at": (req(headers=[b"Host: user@example.com"]), "send"),
    "host_bad_port": (req(headers=[b"Host: example.com:99999x"]), "send"),
    "host_twice": (req(headers=[b"Host: a", b"Host: b"]), "send"),
    "host_missing": (req(headers=[]), "send"),
    "host_nonascii": (req(headers=[b"Host: \xe9x\xff.com"]), "send"),
    "head_431": (req(headers=[b"Host: x"] + BIG_HEADERS), "send"),
    "head_431_stream": (req(headers=[b"Host: x"] + BIG_HEADERS, close=False), "stream"),
    "too_many_headers": (req(headers=[b"Host: x"] + MANY_HEADERS), "send"),
    "line_414": (req(b"GET /" + b"a" * 9000 + b" HTTP/1.1"), "send"),
    "line_414_noend": (b"GET /" + b"b" * 20000, "send"),
    "line_414_stream": (b"GET /" + b"c" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", "stream"),
    "chunk_nonhex": (req(b"POST / HTTP/1.1", [b"Host: x", b"Transfer-Encoding: chunked"],
                         b"zz\r\nhello\r\n0\r\n\r\n"), "send"),
    "chunk_too_long": (req(b"POST / HTTP/1.1", [b"Host: x", b"Transfer-Encoding: chunked"],
                           b"3\r\nhello world\r\n0\r\n\r\n"), "send"),
    "chunk_bad_trailer": (req(b"POST / HTTP/1.1", [b"Host: x", b"Transfer-Encoding: chunked"],
                              b"5\r\nhello\r\n0\r\nBad Trailer\r\n\x00x: y\r\n\r\n"), "send"),
    "chunk_huge_size": (req(b"POST / HTTP/1.1", [b"Host: x", b"Transfer-Encoding: chunked"],
                            b"ffffffffffffffffffff\r\nabc\r\n"), "send"),
    "chunk_bad_ext": (req(b"POST / HTTP/1.1", [b"Host: x", b"Transfer-Encoding: chunked"],
                          b"5;a=\"unterminated\r\nhello\r\n0\r\n\r\n"), "send"),
    "chunk_bare_lf": (req(b"POST / HTTP/1.1", [b"Host: x", b"Transfer-Encoding: chunked"],
                          b"5\nhello\n0\n\n"), "send"),
    "chunk_long_trailers": (req(b"POST / HTTP/1.1", [b"Host: x", b"Transfer-Encoding: chunked"],
                                b"5\r\nhello\r\n0\r\n" + b"".join(b"T%d: %s\r\n" % (i, b"t" * 500)
                                                                for i in range(40)) + b"\r\n"), "send"),
    "chunk_big_then_bad": (req(b"POST / HTTP/1.1", [b"Host: x", b"Transfer-Encoding: chunked"],
                               b"8000\r\n" + b"d" * 0x8000 + b"\r\n8000\r\n" + b"e" * 0x8000
                               + b"\r\nXYZ\r\n"), "send"),
    "chunk_truncated": (req(b"POST / HTTP/1.1", [b"Host: x", b"Transfer-Encoding: chunked"],
                            b"100\r\nshort"), "half"),
    "te_gzip": (req(b"POST / HTTP/1.1", [b"Host: x", b"Transfer-Encoding: gzip"], b"abc"), "send"),
    "te_chunked_twice": (req(b"POST / HTTP/1.1", [b"Host: x", b"Transfer-Encoding: chunked, chunked"],
                             b"0\r\n\r\n"), "send"),
    "cl_and_te": (req(b"POST / HTTP/1.1", [b"Host: x", b"Content-Length: 5",
                                           b"Transfer-Encoding: chunked"], b"0\r\n\r\n"), "send"),
    "cl_mismatch": (req(b"POST / HTTP/1.1", [b"Host: x", b"Content-Length: 5",
                                             b"Content-Length: 6"], b"hello!"), "send"),
    "cl_negative": (req(b"POST / HTTP/1.1", [b"Host: x", b"Content-Length: -1"]), "send"),
    "cl_garbage": (req(b"POST / HTTP/1.1", [b"Host: x", b"Content-Length: 1e3"]), "send"),
    "cl_huge": (req(b"POST / HTTP/1.1", [b"Host: x", b"Content-Length: 99999999999999"]), "send"),
    "cl_short_body": (req(b"POST / HTTP/1.1", [b"Host: x", b"Content-Length: 100000"], b"x" * 1000), "half"),
    "nonascii_target": (req(b"GET /\xff\xfe\xc3\xa9/\x80 HTTP/1.1"), "send"),
    "ctl_in_target": (req(b"GET /a\x01b\x7f HTTP/1.1"), "send"),
    "nul_header_value": (req(headers=[b"Host: x", b"X-A: a\x00b"]), "send"),
    "nul_header_name": (req(headers=[b"Host: x", b"X-\x00A: b"]), "send"),
    "space_before_colon": (req(headers=[b"Host: x", b"X-A : b"]), "send"),
    "obs_fold": (req(headers=[b"Host: x", b"X-A: a", b" folded"]), "send"),
    "no_colon": (req(headers=[b"Host: x", b"NoColonHere"]), "send"),
    "empty_name": (req(headers=[b"Host: x", b": v"]), "send"),
    "bare_lf_head": (b"GET / HTTP/1.1\nHost: x\n\n", "send"),
    "bare_cr_head": (b"GET / HTTP/1.1\rHost: x\r\r", "send"),
    "leading_empty_lines": (b"\r\n" * 500 + b"BAD\r\n\r\n", "send"),
    "half_head_close": (b"GET / HTTP/1.1\r\nHost: x\r\nX-Foo: partial", "half"),
    "half_head_rst": (b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Le", "rst"),
    "half_line_close": (b"GET /some/long/pa", "half"),
    "half_big_head": (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-P: " + b"p" * 40000, "half"),
    "slow_half_head": (b"GET / HTTP/1.1\r\nHost: x\r\n", "slow"),
    "bad_then_stream": (b"BAD REQUEST LINE HERE\r\n\r\n", "stream"),
    "pipelined_bad": (req(close=False) + b"GET / HTTP/9.9\r\n\r\n" + b"junk" * 100, "send"),
    "binary_noise": (None, "send"),  # random bytes, made per connection
    "tls_hello": (bytes.fromhex("16030100a5010000a10303") + os.urandom(150), "send"),
}

stats = collections.Counter()
statuses = collections.defaultdict(collections.Counter)
lock = threading.Lock()


def read_all(s, limit_s):
    s.settimeout(limit_s)
    data = b""
    try:
        while len(data) < 1 << 20:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    return data


def one(name, rng):
    payload, mode = CASES[name]
    if payload is None:
        payload = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 3000)))
    s = socket.create_connection((HOST, ARGS.port), timeout=5)
    status = b"-"
    try:
        if mode == "slow":
            s.sendall(payload)
            time.sleep(rng.uniform(0.5, 3.0))
            s.close()
            return name, b"slow"
        if mode == "rst":
            s.sendall(payload)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
            return name, b"rst"
        try:
            s.sendall(payload)
        except OSError:
            pass
        if mode == "half":
            s.close()
            return name, b"half"
        if mode == "stream":
            data = b""
            s.settimeout(0.5)
            junk = b"J" * 16384
            deadline = time.monotonic() + rng.uniform(0.3, 2.0)
            while time.monotonic() < deadline:
                try:
                    s.sendall(junk)
                except OSError:
                    break
                try:
                    d = s.recv(65536)
                    if d:
                        data += d
                except socket.timeout:
                    pass
                except OSError:
                    break
            data += read_all(s, 1.0)
        else:
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            data = read_all(s, 3.0)
        if data.startswith(b"HTTP/"):
            status = data[9:12]
        elif data:
            status = b"??"
    finally:
        try:
            s.close()
        except OSError:
            pass
    return name, status


def malformed_worker(stop, idx):
    rng = random.Random(idx)
    names = list(CASES)
    while not stop.is_set():
        name = rng.choice(names)
        try:
            name, status = one(name, rng)
        except OSError as e:
            status = b"E:" + type(e).__name__.encode()
        with lock:
            stats["conns"] += 1
            statuses[name][status.decode("latin-1")] += 1
        if ARGS.pause:
            time.sleep(ARGS.pause)


def normal_worker(stop, idx):
    while not stop.is_set():
        try:
            s = socket.create_connection((HOST, ARGS.port), timeout=5)
            for _ in range(20):
                s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
                d = s.recv(4096)
                with lock:
                    stats["normal"] += 1
                time.sleep(ARGS.pause or 0.05)
                if stop.is_set():
                    break
            s.close()
        except OSError:
            with lock:
                stats["normal_err"] += 1
            time.sleep(0.2)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--threads", type=int, default=12)
    p.add_argument("--pause", type=float, default=0.0, help="sleep between connections per thread")
    p.add_argument("--normal", action="store_true")
    p.add_argument("--report", default=None, help="write per-case status counts here at the end")
    ARGS = p.parse_args()
    stop = threading.Event()
    target = normal_worker if ARGS.normal else malformed_worker
    ts = [threading.Thread(target=target, args=(stop, i), daemon=True) for i in range(ARGS.threads)]
    for t in ts:
        t.start()
    start = time.monotonic()
    try:
        while time.monotonic() - start < ARGS.seconds:
            time.sleep(min(30, max(0.1, ARGS.seconds - (time.monotonic() - start))))
            with lock:
                print(f"[{time.monotonic() - start:7.0f}s] {dict(stats)}", file=sys.stderr, flush=True)
    finally:
        stop.set()
        for t in ts:
            t.join(timeout=10)
    out = open(ARGS.report, "w") if ARGS.report else sys.stdout
    with lock:
        print(f"total {dict(stats)}", file=out)
        for name in sorted(statuses):
            print(f"{name:22} {dict(statuses[name])}", file=out)


if __name__ == "__main__":
    main()
