#!/usr/bin/env python3
"""Restarts under socket activation, many times a minute, without systemd.

    python3 bench/socket_restart.py BINARY DATA_DIR RESTARTS     (PORT=18080 by default)

Holds a listening socket on 127.0.0.1 as systemd's alojamientos.socket does, starts
`BINARY serve` on it (LISTEN_FDS=1, LISTEN_PID), and restarts it RESTARTS times (SIGTERM, wait
for the exit, start again, wait for readyz) while four client threads send
`GET /admin/` with `Connection: close`. Prints the requests answered 200 and every other
outcome with its time from the nearest SIGTERM. Every request must be answered: connections
made during a restart wait in the kernel for the next process.
"""
import os, random, signal, socket, sys, threading, time

binary, data, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
port = int(os.environ.get("PORT", "18080"))
lst = socket.socket(); lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lst.bind(("127.0.0.1", port)); lst.listen(1024)
stop = False
results = {"ok": 0, "bad": []}
lock = threading.Lock()
REQ = b"GET /admin/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

def client():
    while not stop:
        t = time.time()
        try:
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(REQ)
            buf = b""
            while True:
                b = s.recv(65536)
                if not b: break
                buf += b
            s.close()
            good = buf.startswith(b"HTTP/1.1 200")
            err = buf[:40]
        except Exception as e:
            good, err = False, repr(e)
        with lock:
            if good: results["ok"] += 1
            else: results["bad"].append((t, err))
        time.sleep(0.004)

def start():
    pid = os.fork()
    if pid == 0:
        if lst.fileno() == 3: os.set_inheritable(3, True)
        else: os.dup2(lst.fileno(), 3)
        env = {"LISTEN_FDS": "1", "LISTEN_PID": str(os.getpid()), "PATH": "/usr/bin:/bin",
               "ALOJAMIENTOS_SERVER__DATA_DIR": data, "ALOJAMIENTOS_LOG__FILTER": "warn",
               "ALOJAMIENTOS_RATE_LIMIT__ENABLED": "false"}
        devnull = os.open("/dev/null", os.O_WRONLY); os.dup2(devnull, 1)
        os.execve(binary, [binary, "serve"], env)
    return pid

def ready():
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            s = socket.create_connection(("127.0.0.1", port)); s.settimeout(2)
            s.sendall(b"GET /api/v1/readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            r = s.recv(100); s.close()
            if r.startswith(b"HTTP/1.1 200"): return True
        except Exception: pass
        time.sleep(0.05)
    return False

pid = start(); assert ready(), "not ready"
threads = [threading.Thread(target=client, daemon=True) for _ in range(4)]
for th in threads: th.start()
restarts = []
for i in range(rounds):
    time.sleep(random.uniform(0.2, 0.6))
    t = time.time(); os.kill(pid, signal.SIGTERM); os.waitpid(pid, 0); t2 = time.time()
    restarts.append((t, t2))
    pid = start()
    if not ready(): print("not ready after restart", i); break
stop = True
for th in threads: th.join()
os.kill(pid, signal.SIGTERM); os.waitpid(pid, 0)
print(f"restarts {len(restarts)} ok {results['ok']} bad {len(results['bad'])}")
for t, err in results["bad"][:20]:
    near = min(restarts, key=lambda r: abs(r[0] - t))
    print(f"  {t - near[0]:+.4f}s from SIGTERM (exit +{near[1]-near[0]:.3f}s): {err}")
