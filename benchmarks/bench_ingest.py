"""Durable batch event ingestion (target >= 100,000 events/s), against baselines measured the
same way in the same process.

    uv run python benchmarks/bench_ingest.py [--batches 200] [--batch-size 1000]
                                             [--threads 4] [--processes 1] [--http]

What it measures (a fresh temporary data dir each time; every figure includes the fsync):
1. service/body: `tracking.service.ingest_batch(store, body=...)` — what POST /t/batch calls —
   on pre-encoded wire batches (JSON, 1,000 events of a realistic storefront shape with UTM
   landing URLs, client uuids and timestamps), from `--threads` threads sharing one log
   (group commit) in each of `--processes` processes (like `shopops serve` workers: one log
   per process, the same data dir);
2. service/objects: the same with `events=` (Python dicts, as the simulator calls it);
3. baselines: (a) raw `os.write` + `fdatasync` of the same bytes, one sync per batch, one
   thread (the disk's floor); (b) `json.loads` of the same bodies (the parse alone);
4. with --http: POST /t/batch through uvicorn on 127.0.0.1 (one server process, httpx
   clients on `--threads` threads), events/s.
Prints events/s, fsyncs per batch, and the ratio of each figure to the baselines.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from pathlib import Path


def make_batches(count: int, size: int, seed: int = 0) -> list[bytes]:
    sources = ["", "?utm_source=baidu&utm_medium=cpc", "?utm_source=oceanengine", ""]
    names = ["page_view", "product_view", "add_to_cart", "search", "product_view"]
    out = []
    for b in range(count):
        events = []
        for i in range(size):
            n = b * size + i
            props: dict[str, object] = {
                "url": f"https://shop.example.com/p/{n % 500}{sources[n % 4]}",
                "referrer": "https://www.baidu.com/s?wd=x" if n % 3 == 0 else "",
            }
            if n % 5 in (1, 2):
                props["sku_id"] = n % 500 + 1
            events.append(
                {
                    "event": names[n % 5],
                    "distinct_id": f"anon-{seed}-{n // 20}",
                    "uuid": str(uuid.UUID(int=(seed << 64) + n + 1)),
                    "timestamp": "2026-11-11T02:00:00.000Z",
                    "properties": props,
                }
            )
        out.append(json.dumps(events).encode())
    return out


def _proc(args: tuple[str, int, int, int, bool, mp.Barrier, mp.Queue]) -> None:
    data_dir, count, size, threads, as_objects, barrier, out = args
    from shopops.tracking import service

    batches = make_batches(count, size, seed=os.getpid())
    parsed = [json.loads(b) for b in batches] if as_objects else None
    store = service.open_store(data_dir)
    ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile"

    def work(k: int) -> None:
        for i in range(k, len(batches), threads):
            if parsed is not None:
                service.ingest_batch(store, events=parsed[i], user_agent=ua)
            else:
                service.ingest_batch(store, body=batches[i], user_agent=ua)

    pool = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    barrier.wait()
    start = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out.put((time.perf_counter() - start, store.log.syncs))
    service.close_store(store)


def service_rate(count: int, size: int, threads: int, processes: int, as_objects: bool):
    data_dir = tempfile.mkdtemp(prefix="bench-ingest-", dir=".")
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(processes), ctx.Queue()
    per = count // processes
    procs = [
        ctx.Process(target=_proc, args=((data_dir, per, size, threads, as_objects, barrier, out),))
        for _ in range(processes)
    ]
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = max(r[0] for r in results)
    syncs = sum(r[1] for r in results)
    stored = _count(data_dir)
    shutil.rmtree(data_dir)
    return per * processes * size / elapsed, syncs / (per * processes), stored


def _count(data_dir: str) -> int:
    from shopops.tracking import service

    return service.read_events(data_dir).num_rows


def raw_write_rate(batches: list[bytes], size: int) -> float:
    path = Path(tempfile.mkdtemp(prefix="bench-ingest-raw-", dir=".")) / "raw.log"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    start = time.perf_counter()
    for b in batches:
        os.write(fd, b)
        os.fdatasync(fd)
    elapsed = time.perf_counter() - start
    os.close(fd)
    path.unlink()
    path.parent.rmdir()
    return len(batches) * size / elapsed


def parse_rate(batches: list[bytes], size: int) -> float:
    start = time.perf_counter()
    for b in batches:
        json.loads(b)
    return len(batches) * size / (time.perf_counter() - start)


def http_rate(batches: list[bytes], size: int, threads: int) -> float:
    import httpx
    import uvicorn

    from shopops.api.app import create_app
    from shopops.config import Settings

    data_dir = tempfile.mkdtemp(prefix="bench-ingest-http-", dir=".")
    settings = Settings(data_dir=Path(data_dir), rate_limit_per_minute=0)
    app = create_app(settings)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}/t/batch"

    def work(k: int) -> None:
        with httpx.Client(timeout=60) as client:
            for i in range(k, len(batches), threads):
                r = client.post(url, content=batches[i])
                assert r.status_code == 200 and r.json()["accepted"] == size, r.text

    start = time.perf_counter()
    pool = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - start
    server.should_exit = True
    thread.join()
    shutil.rmtree(data_dir)
    return len(batches) * size / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--http", action="store_true")
    args = parser.parse_args()
    n, size = args.batches, args.batch_size
    batches = make_batches(n, size)
    mb = sum(map(len, batches)) / 1e6
    print(f"{n} batches × {size} events, {mb:.1f} MB of JSON; cpus={os.cpu_count()}")

    raw = raw_write_rate(batches, size)
    parse = parse_rate(batches, size)
    print(f"baseline os.write+fdatasync per batch : {raw:>11,.0f} events/s")
    print(f"baseline json.loads only              : {parse:>11,.0f} events/s")
    for label, as_objects in (("body", False), ("objects", True)):
        rate, syncs, stored = service_rate(n, size, args.threads, args.processes, as_objects)
        print(
            f"service/{label:<7} {args.processes}p×{args.threads}t durable      : "
            f"{rate:>11,.0f} events/s  (fsyncs/batch {syncs:.2f}; stored {stored:,}; "
            f"{rate / raw:.2f}× raw write+sync, {rate / parse:.2f}× json.loads)"
        )
    if args.http:
        rate = http_rate(batches, size, args.threads)
        print(f"HTTP POST /t/batch 1 server, {args.threads} clients : {rate:>11,.0f} events/s")


if __name__ == "__main__":
    main()
