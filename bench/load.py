#!/usr/bin/env python3
"""Fixed-count load for instruction counting (bench/callgrind.sh): COUNT requests of one kind
over CONNECTIONS keep-alive connections, then the status counts as JSON.

Kinds: hold (a new one-night hold each request, like reserve.lua), quote (like quote.lua),
healthz, and live: confirmed stays of 1 to 7 nights back to back from today until BENCH_YEARS
(default 5) years ahead on every accommodation, through the admin API (BENCH_TOKEN), as many
requests as that takes (COUNT is ignored). BENCH_UNITS and BENCH_OFFSET (days) as for the wrk
scripts.
Usage: load.py BASE_URL KIND COUNT [CONNECTIONS]"""
import http.client
import json
import os
import random
import sys
import threading
import time
from collections import Counter
from datetime import date, timedelta
from urllib.parse import urlparse

base, kind, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
connections = int(sys.argv[4]) if len(sys.argv) > 4 else 8
units = int(os.environ.get("BENCH_UNITS", "100"))
first = date.today() + timedelta(days=3 + int(os.environ.get("BENCH_OFFSET", "0")))
url = urlparse(base)
statuses = Counter()
lock = threading.Lock()


def live(worker):
    """Confirmed stays filling the years ahead on this connection's accommodations."""
    rng = random.Random(worker)
    last = date.today() + timedelta(days=365 * int(os.environ.get("BENCH_YEARS", "5")))
    for unit in range(worker + 1, units + 1, connections):
        night = date.today()
        while night < last:
            leave = night + timedelta(days=rng.randint(1, 7))
            body = json.dumps({
                "accommodation_id": unit, "check_in": night.isoformat(),
                "check_out": leave.isoformat(), "guests": 2, "confirmed": True,
                "contact_name": "Bench", "contact_phone": "+5491122334455"})
            yield "POST", "/api/v1/admin/reservations", body
            night = leave


def requests(worker):
    """The requests of one connection: holds walk their own units and nights."""
    if kind == "live":
        yield from live(worker)
        return
    per = max(units // connections, 1)
    n = 0
    while True:
        if kind == "hold":
            unit = (worker * per) % units + n % per + 1
            night = first + timedelta(days=n // per)
            body = json.dumps({
                "accommodation_id": unit, "check_in": night.isoformat(),
                "check_out": (night + timedelta(days=1)).isoformat(), "guests": 2,
                "contact_name": "Bench", "contact_phone": "+5491122334455"})
            yield "POST", "/api/v1/reservations", body
        elif kind == "quote":
            ci = first + timedelta(days=random.randint(0, 300))
            co = ci + timedelta(days=3)
            yield "GET", (f"/api/v1/accommodations/{random.randint(1, units)}/quote"
                          f"?check_in={ci}&check_out={co}&guests=2"), None
        else:
            yield "GET", "/api/v1/healthz", None
        n += 1


def worker(i, quota):
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=600)
    mine = Counter()
    gen = requests(i)
    token = os.environ.get("BENCH_TOKEN")
    for _ in range(quota if kind != "live" else 1 << 62):
        step = next(gen, None)
        if step is None:
            break
        method, path, body = step
        headers = {"content-type": "application/json"} if body else {}
        if token:
            headers["authorization"] = f"Bearer {token}"
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        r.read()
        mine[r.status] += 1
    with lock:
        statuses.update(mine)


threads = [threading.Thread(target=worker, args=(i, count // connections + (i < count % connections)))
           for i in range(connections)]
started = time.monotonic()
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps({"requests": sum(statuses.values()), "seconds": round(time.monotonic() - started, 2),
                  "statuses": {str(k): v for k, v in sorted(statuses.items())}}))
