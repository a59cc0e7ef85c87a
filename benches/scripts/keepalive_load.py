"""Sends N sequential keep-alive GET requests on each of C connections (what wrk sends)."""
import socket
import sys
import threading

port, n = int(sys.argv[1]), int(sys.argv[2])
conns = int(sys.argv[3]) if len(sys.argv) > 3 else 4
request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % port


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
