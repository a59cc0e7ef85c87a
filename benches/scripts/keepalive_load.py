"""Sends N sequential keep-alive GET requests on each of C connections (what wrk sends; with
REQUEST=browser in the environment, the head a browser sends for a page instead)."""
import os
import socket
import sys
import threading

port, n = int(sys.argv[1]), int(sys.argv[2])
conns = int(sys.argv[3]) if len(sys.argv) > 3 else 4
request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % port
if os.environ.get("REQUEST") == "browser":
    # What a browser sends for a page (about 700 bytes, 13 fields).
    request = (
        b"GET /articles/2026/12/hello-world?ref=home&lang=en HTTP/1.1\r\n"
        b"Host: 127.0.0.1:%d\r\n"
        b"Connection: keep-alive\r\n"
        b"Cache-Control: max-age=0\r\n"
        b"sec-ch-ua: \"Chromium\";v=\"131\", \"Not_A Brand\";v=\"24\"\r\n"
        b"sec-ch-ua-mobile: ?0\r\n"
        b"sec-ch-ua-platform: \"Linux\"\r\n"
        b"Upgrade-Insecure-Requests: 1\r\n"
        b"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        b"Chrome/131.0.0.0 Safari/537.36\r\n"
        b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
        b"image/apng,*/*;q=0.8\r\n"
        b"Sec-Fetch-Site: same-origin\r\n"
        b"Sec-Fetch-Mode: navigate\r\n"
        b"Accept-Encoding: gzip, deflate, br, zstd\r\n"
        b"Accept-Language: en-GB,en;q=0.9\r\n"
        b"Cookie: session=4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d; theme=dark\r\n\r\n" % port
    )


def run():
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = b""
    for _ in range(n):
        s.sendall(request)
        while True:
            end = buf.find(b"\r\n\r\n")
            if end >= 0 and len(buf) >= end + 4 + 11:  # the 11-byte "Hello World"
                buf = buf[end + 4 + 11:]
                break
            data = s.recv(65536)
            if not data:
                raise SystemExit("server closed the connection")
            buf += data
    s.close()


threads = [threading.Thread(target=run) for _ in range(conns)]
for t in threads:
    t.start()
for t in threads:
    t.join()
