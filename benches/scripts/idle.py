# Opens N keep-alive connections, makes one request on each, then holds them idle.
import socket, sys, time, resource
resource.setrlimit(resource.RLIMIT_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE))
port, n, hold = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
socks = []
req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(req)
    socks.append(s)
ok = 0
for s in socks:
    data = b""
    while b"Hello World" not in data:
        chunk = s.recv(4096)
        if not chunk: break
        data += chunk
    ok += b"Hello World" in data
print(f"{ok}/{n} idle keep-alive connections established", flush=True)
time.sleep(hold)
alive = 0
for s in socks:
    s.setblocking(False)
    try:
        alive += s.recv(1) != b""  # data: unexpected; b"": closed
    except BlockingIOError:
        alive += 1
print(f"{alive}/{n} still open after {hold}s", flush=True)
