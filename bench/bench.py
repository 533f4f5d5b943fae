#!/usr/bin/env python3
"""Helpers of the benchmark scripts in bench/ (standard library only).

The shell scripts start and stop things; this file does what needs a clock
finer than a shell's or structured data:

  machine                      the machine as JSON (cpus, memory, load)
  wait-http URL CODE SECONDS   waits for URL to answer CODE
  leader SECONDS PORT...       prints the index (1-based) of the one
                               write-ready sidecar among PORTs
  wait-follower PORT SECONDS   waits until the sidecar on PORT is a
                               follower waiting for the lock, read-ready
  fault MODE ...               injects one fault and times the takeover
  takeover-summary JSONL       p50/p99/max per scenario of `fault` lines
  wrk-row ...                  one JSON row from wrk output (stdin)
  pgbench-row ...              one JSON row from pgbench output (stdin)
  fenced-summary JSONL         medians and ratios to unfenced of those rows
  footprint ...                samples memory, CPU, sessions and queries
  assemble HEADER ROWS         header JSON + JSON lines -> one document
  table RESULT.json            the result as Markdown tables

Percentiles are nearest-rank: p of n sorted values is the value at rank
ceil(p / 100 * n), so p99 of 100 trials is the second largest.
"""

import argparse
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import time

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------
# Small utilities.


def percentile(values, p):
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100.0 * len(ordered)))
    return ordered[rank - 1]


def loadavg():
    with open("/proc/loadavg") as f:
        one, five, fifteen = f.read().split()[:3]
    return [float(one), float(five), float(fifteen)]


def http_status(port, path, timeout=1.0, method="GET", body=b"",
                headers=None):
    """One request on a fresh connection; returns (status, body)."""
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1",
             "Connection: close", "Content-Length: %d" % len(body)]
    lines += ["%s: %s" % item for item in (headers or {}).items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        return read_response(s)


def read_response(sock):
    chunks = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].split(b" ")
    if len(status_line) < 2 or not status_line[1].isdigit():
        raise OSError("malformed HTTP answer: %r" % raw[:80])
    return int(status_line[1]), body


def url_port_path(url):
    match = re.match(r"^http://127\.0\.0\.1:(\d+)(/.*)$", url)
    if not match:
        raise SystemExit("bench.py: expected http://127.0.0.1:PORT/PATH, got "
                         + url)
    return int(match.group(1)), match.group(2)


def try_status(port, path, timeout=1.0):
    try:
        return http_status(port, path, timeout)[0]
    except OSError:
        return None


def fail(message):
    print("bench.py: " + message, file=sys.stderr)
    sys.exit(1)


# ---------------------------------------------------------------------------
# Waiting.


def cmd_machine(_args):
    meminfo = {}
    with open("/proc/meminfo") as f:
        for line in f:
            key, value = line.split(":", 1)
            meminfo[key] = int(value.split()[0])
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    print(json.dumps({
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "mem_total_mib": meminfo["MemTotal"] // 1024,
        "mem_available_mib": meminfo["MemAvailable"] // 1024,
        "kernel": os.uname().release,
        "loadavg": loadavg(),
    }))


def cmd_wait_http(args):
    port, path = url_port_path(args.url)
    deadline = time.monotonic() + args.seconds
    last = None
    while time.monotonic() < deadline:
        last = try_status(port, path)
        if last == args.code:
            return
        time.sleep(0.05)
    fail("%s answered %s, not %d, for %g s" % (args.url, last, args.code,
                                               args.seconds))


def write_ready_ports(ports):
    return [i for i, port in enumerate(ports, 1)
            if try_status(port, "/v1/health/write-ready") == 200]


def cmd_leader(args):
    deadline = time.monotonic() + args.seconds
    ready = []
    while time.monotonic() < deadline:
        ready = write_ready_ports(args.ports)
        if len(ready) == 1:
            print(ready[0])
            return
        time.sleep(0.05)
    fail("expected exactly one write-ready sidecar on ports %s, found %s"
         % (args.ports, ready))


def follower_waiting(port):
    try:
        status, body = http_status(port, "/v1/ha/status")
    except OSError:
        return False
    if status != 200:
        return False
    view = json.loads(body)
    return (view.get("role") == "follower" and view.get("read_ready") is True
            and "lock is held by another session"
            in view.get("write_ready_reason", ""))


def cmd_wait_follower(args):
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        if follower_waiting(args.port):
            return
        time.sleep(0.05)
    fail("the sidecar on port %d is not a read-ready follower waiting for "
         "the lock after %g s" % (args.port, args.seconds))


# ---------------------------------------------------------------------------
# Takeover: one fault, then poll the other node until it is write-ready.


def inject(args):
    """Injects the fault; returns the admin request's socket for `api`."""
    if args.mode == "kill":
        os.kill(args.pid, signal.SIGKILL)
        return None
    if args.mode == "sigterm":
        os.kill(args.pid, signal.SIGTERM)
        return None
    with open(args.token_file) as f:
        token = f.readline().strip()
    body = json.dumps({"operator": "bench",
                       "reason": "takeover benchmark"}).encode()
    lines = ["POST /v1/ha/failover HTTP/1.1", "Host: 127.0.0.1",
             "Connection: close", "Content-Type: application/json",
             "Authorization: Bearer " + token,
             "Content-Length: %d" % len(body)]
    sock = socket.create_connection(("127.0.0.1", args.leader_port),
                                    timeout=args.timeout)
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    return sock


def poll_until_ready(port, start, args):
    """Polls write-ready; returns (lower_s, upper_s, polls) after a 200."""
    deadline = start + args.timeout
    last_refused_sent = start
    polls = 0
    while True:
        sent = time.monotonic()
        status = try_status(port, "/v1/health/write-ready")
        received = time.monotonic()
        polls += 1
        if status == 200:
            return last_refused_sent - start, received - start, polls
        if received > deadline:
            fail("port %d not write-ready %g s after the fault (last answer "
                 "%s)" % (port, args.timeout, status))
        last_refused_sent = sent
        time.sleep(args.poll_ms / 1000.0)


def check_admin_answer(sock):
    if sock is None:
        return
    with sock:
        status, body = read_response(sock)
    if status != 200 or json.loads(body).get("result") != "resigned":
        fail("POST /v1/ha/failover answered %d %r" % (status, body[:200]))


def cmd_fault(args):
    before = try_status(args.follower_port, "/v1/health/write-ready")
    if before != 503:
        fail("port %d answers write-ready %s before the fault, expected 503"
             % (args.follower_port, before))
    load = loadavg()

    start = time.monotonic()
    sock = inject(args)
    lower, upper, polls = poll_until_ready(args.follower_port, start, args)
    check_admin_answer(sock)

    print(json.dumps({
        "scenario": args.scenario or args.mode,
        "ms": round(upper * 1000.0, 3),
        "lower_ms": round(lower * 1000.0, 3),
        "polls": polls,
        "loadavg": load,
    }))


def stats_ms(values):
    return {
        "n": len(values),
        "min_ms": min(values),
        "p50_ms": percentile(values, 50),
        "p99_ms": percentile(values, 99),
        "max_ms": max(values),
        "mean_ms": round(sum(values) / len(values), 3),
    }


def cmd_takeover_summary(args):
    by_scenario = {}
    with open(args.jsonl) as f:
        for line in f:
            row = json.loads(line)
            by_scenario.setdefault(row["scenario"], []).append(row)
    rows = []
    for scenario, trials in by_scenario.items():
        row = {"scenario": scenario}
        row.update(stats_ms([t["ms"] for t in trials]))
        # How finely the poller saw the change: the gap between the last
        # refused probe and the first accepted answer.
        gaps = [t["ms"] - t["lower_ms"] for t in trials]
        row["resolution_p50_ms"] = round(percentile(gaps, 50), 3)
        loads = [t["loadavg"][0] for t in trials]
        row["load1_min"], row["load1_max"] = min(loads), max(loads)
        rows.append(row)
    for row in rows:
        print(json.dumps(row))


# ---------------------------------------------------------------------------
# Parsing the load tools' output into rows.


def parse_bench_lines(text):
    """The `BENCH key value` lines that bench/wrk_report.lua prints."""
    values = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "BENCH":
            values[parts[1]] = float(parts[2])
    return values


def meta_pairs(pairs):
    meta = {}
    for pair in pairs or []:
        key, _, value = pair.partition("=")
        meta[key] = int(value) if value.isdigit() else value
    return meta


def cmd_wrk_row(args):
    text = sys.stdin.read()
    values = parse_bench_lines(text)
    if "requests" not in values:
        fail("no BENCH lines in the wrk output:\n" + text[-2000:])
    row = meta_pairs(args.meta)
    completed = int(values["requests"])
    row.update({
        "requests": completed,
        "rps": round(completed / (values["duration_us"] / 1e6), 1),
        "non_2xx": int(values["status_errors"]),
        "timeouts": int(values["timeouts"]),
        "socket_errors": int(values["connect_errors"] + values["read_errors"]
                             + values["write_errors"]),
        "loadavg": loadavg(),
    })
    # wrk keeps latencies of answered requests only.
    for key in ("p50", "p99", "max"):
        us = values.get(key + "_us", 0.0)
        row[key + "_ms"] = round(us / 1000.0, 3) if completed else None
    print(json.dumps(row))


PGBENCH_PATTERNS = {
    "tps": r"^tps = ([0-9.]+) \(without initial connection time\)",
    "latency_ms": r"^latency average = ([0-9.]+) ms",
    "transactions": r"^number of transactions actually processed: (\d+)",
    "failed": r"^number of failed transactions: (\d+)",
}


def cmd_pgbench_row(args):
    text = sys.stdin.read()
    row = meta_pairs(args.meta)
    for key, pattern in PGBENCH_PATTERNS.items():
        match = re.search(pattern, text, re.MULTILINE)
        if match is None and key != "failed":
            fail("pgbench output has no %s:\n%s" % (key, text[-2000:]))
        row[key] = float(match.group(1)) if match else 0.0
    row["transactions"] = int(row["transactions"])
    row["failed"] = int(row["failed"])
    row["loadavg"] = loadavg()
    print(json.dumps(row))


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2.0


def cmd_fenced_summary(args):
    """One row per (clients, mode): the median of its rounds, and its
    throughput as a ratio to unfenced at the same clients."""
    runs = {}
    with open(args.jsonl) as f:
        for line in f:
            row = json.loads(line)
            runs.setdefault((row["clients"], row["mode"]), []).append(row)
    for (clients, mode), rounds in runs.items():
        base = median([r["tps"] for r in runs[(clients, "unfenced")]])
        tps = median([r["tps"] for r in rounds])
        print(json.dumps({
            "clients": clients,
            "mode": mode,
            "tps": round(tps, 1),
            "ratio": round(tps / base, 3),
            "tps_rounds": [round(r["tps"], 1) for r in rounds],
            "latency_ms": round(median([r["latency_ms"] for r in rounds]), 3),
            "failed": sum(r["failed"] for r in rounds),
            "loadavg": rounds[-1]["loadavg"],
        }))


# ---------------------------------------------------------------------------
# Footprint: one process's memory and CPU, its sessions and its queries.


def proc_cpu_seconds(pid):
    """utime + stime of PID in seconds, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def proc_memory(pid):
    """VmRSS, RssAnon and RssFile in KiB and the thread count of PID."""
    wanted = ("VmRSS", "RssAnon", "RssFile", "Threads")
    found = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in wanted:
                found[key] = int(value.split()[0])
    return found


class Psql:
    """Runs queries on the primary through its unix socket, as postgres."""

    def __init__(self, psql, socket_dir, port, dbname):
        self.argv = [psql, "-X", "-Atq", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                     "-h", socket_dir, "-p", str(port), "-U", "postgres",
                     "-d", dbname, "-c"]

    def rows(self, sql):
        out = subprocess.run(self.argv + [sql], check=True,
                             capture_output=True, text=True).stdout
        return [line.split("\t") for line in out.splitlines() if line]


SESSIONS_SQL = ("SELECT pid, application_name FROM pg_stat_activity "
                "WHERE backend_type = 'client backend'")
XACTS_SQL = ("SELECT datname, xact_commit + xact_rollback "
             "FROM pg_stat_database WHERE datname IS NOT NULL")


class Subject:
    """One measured process: its pid, /metrics URL, the application_name
    prefix of its sessions and the database it connects to."""

    def __init__(self, name, pid, url, app_prefix, database):
        self.name, self.pid, self.url = name, int(pid), url
        self.app_prefix, self.database = app_prefix, database
        self.memory = []  # proc_memory() samples
        self.cpu_start = self.cpu_end = None
        self.sessions = []
        self.backend_cpu = {}  # backend pid -> [first seen, last seen]
        self.scrape_ms = []
        self.scrape_bytes = 0
        self.scrape_failures = 0

    def owns(self, application_name):
        return application_name.startswith(self.app_prefix)


def scrape(subject):
    port, path = url_port_path(subject.url)
    started = time.monotonic()
    try:
        status, body = http_status(port, path, timeout=5.0)
    except OSError:
        status, body = None, b""
    if status != 200:
        subject.scrape_failures += 1
        return
    subject.scrape_ms.append((time.monotonic() - started) * 1000.0)
    subject.scrape_bytes = len(body)


def sample(subjects, psql):
    backends = psql.rows(SESSIONS_SQL)
    for subject in subjects:
        try:
            subject.memory.append(proc_memory(subject.pid))
        except OSError:
            fail("%s (pid %d) died during the window" % (subject.name,
                                                         subject.pid))
        subject.cpu_end = proc_cpu_seconds(subject.pid)
        mine = [int(pid) for pid, app in backends if subject.owns(app)]
        subject.sessions.append(len(mine))
        for pid in mine:
            cpu = proc_cpu_seconds(pid)
            if cpu is not None:
                subject.backend_cpu.setdefault(pid, [cpu, cpu])[1] = cpu


def xact_counts(psql):
    return {name: int(count) for name, count in psql.rows(XACTS_SQL)}


def count_statements(log_path, offset, subjects):
    """Top-level statements per subject logged since OFFSET
    (log_statement = all; extended-protocol queries log as `execute`)."""
    counts = {subject.name: 0 for subject in subjects}
    logged = re.compile(r" app=(\S*) .*?LOG:  (statement|execute [^:]*):")
    with open(log_path, "rb") as f:
        f.seek(offset)
        for raw in f:
            match = logged.search(raw.decode("utf-8", "replace"))
            if not match:
                continue
            for subject in subjects:
                if subject.owns(match.group(1)):
                    counts[subject.name] += 1
    return counts


def mib_series(samples, key):
    return [sample[key] / 1024.0 for sample in samples]


def mean(values):
    return sum(values) / len(values)


def footprint_row(subject, seconds, statements, xacts, sample_interval):
    rss = mib_series(subject.memory, "VmRSS")
    per_minute = max(1, round(60.0 / sample_interval))
    backend_cpu = sum(last - first
                      for first, last in subject.backend_cpu.values())
    return {
        "process": subject.name,
        "seconds": round(seconds, 1),
        "rss_mib_start": round(rss[0], 2),
        "rss_mib_mean": round(mean(rss), 2),
        "rss_mib_max": round(max(rss), 2),
        "rss_mib_end": round(rss[-1], 2),
        # Anonymous memory is the process's own; file pages are mostly
        # shared libraries, resident once however many processes map them.
        "rss_anon_mib_mean": round(
            mean(mib_series(subject.memory, "RssAnon")), 2),
        "rss_file_mib_mean": round(
            mean(mib_series(subject.memory, "RssFile")), 2),
        "rss_mib_each_minute": [round(v, 1) for v in rss[::per_minute]],
        "threads": subject.memory[-1]["Threads"],
        "cpu_pct_of_core": round(
            100.0 * (subject.cpu_end - subject.cpu_start) / seconds, 3),
        "sessions_min": min(subject.sessions),
        "sessions_max": max(subject.sessions),
        "queries_per_s": round(statements / seconds, 2),
        "server_cpu_pct_of_core": round(100.0 * backend_cpu / seconds, 3),
        "database": subject.database,
        "database_xacts_per_s": round(xacts / seconds, 2),
        "scrapes": len(subject.scrape_ms),
        "scrape_failures": subject.scrape_failures,
        "scrape_p50_ms": round(percentile(subject.scrape_ms, 50) or 0, 3),
        "scrape_p99_ms": round(percentile(subject.scrape_ms, 99) or 0, 3),
        "scrape_bytes": subject.scrape_bytes,
    }


def run_window(subjects, psql, args):
    """Scrapes every subject each scrape interval and samples each sample
    interval, for the whole duration; returns the seconds it lasted."""
    start = time.monotonic()
    next_sample = start
    tick = 0
    while True:
        now = time.monotonic()
        if now - start >= args.duration:
            break
        for subject in subjects:
            scrape(subject)
        if now >= next_sample:
            sample(subjects, psql)
            next_sample += args.sample_interval
        tick += 1
        pause = start + tick * args.scrape_interval - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    sample(subjects, psql)
    return time.monotonic() - start


def cmd_footprint(args):
    subjects = [Subject(*proc) for proc in args.proc]
    psql = Psql(args.psql, args.socket_dir, args.port, args.dbname)

    log_offset = os.path.getsize(args.server_log)
    xacts_before = xact_counts(psql)
    for subject in subjects:
        subject.cpu_start = proc_cpu_seconds(subject.pid)
    seconds = run_window(subjects, psql, args)
    xacts_after = xact_counts(psql)
    statements = count_statements(args.server_log, log_offset, subjects)

    for subject in subjects:
        xacts = (xacts_after.get(subject.database, 0)
                 - xacts_before.get(subject.database, 0))
        row = footprint_row(subject, seconds, statements[subject.name], xacts,
                            args.sample_interval)
        row["loadavg_end"] = loadavg()
        print(json.dumps(row))


# ---------------------------------------------------------------------------
# Results: one document per benchmark, and Markdown tables of it.


def cmd_assemble(args):
    with open(args.header) as f:
        document = json.load(f)
    rows = []
    with open(args.rows) as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    document["rows"] = rows
    document["machine"]["loadavg_end"] = loadavg()
    json.dump(document, sys.stdout, indent=2)
    print()


def fmt(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        return ("%.3f" % value).rstrip("0").rstrip(".")
    if isinstance(value, list):
        return " ".join(fmt(v) for v in value)
    return str(value)


def markdown(rows, columns):
    lines = ["| " + " | ".join(columns) + " |",
             "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(fmt(row.get(c)) for c in columns)
                     + " |")
    return "\n".join(lines)


TABLE_COLUMNS = {
    "takeover": ["scenario", "n", "p50_ms", "p99_ms", "max_ms", "min_ms",
                 "mean_ms", "resolution_p50_ms", "load1_min", "load1_max"],
    "scrape": ["state", "server", "path", "concurrency", "p50_ms", "p99_ms",
               "max_ms", "rps", "requests", "non_2xx", "timeouts",
               "socket_errors", "loadavg"],
    "footprint": ["process", "seconds", "rss_mib_mean", "rss_mib_max",
                  "rss_anon_mib_mean", "rss_file_mib_mean", "threads",
                  "cpu_pct_of_core", "sessions_max", "queries_per_s",
                  "server_cpu_pct_of_core", "database",
                  "database_xacts_per_s", "scrape_p50_ms", "scrape_p99_ms",
                  "scrape_failures"],
    "fenced_writes": ["clients", "mode", "tps", "ratio", "tps_rounds",
                      "latency_ms", "failed", "loadavg"],
}


def cmd_table(args):
    with open(args.result) as f:
        document = json.load(f)
    name = document["benchmark"]
    machine = document["machine"]
    print("## %s\n" % name)
    print("machine: %d CPUs (%s), %d MiB; load %s at start, %s at end\n"
          % (machine["nproc"], machine["cpu_model"], machine["mem_total_mib"],
             fmt(machine["loadavg"]), fmt(machine["loadavg_end"])))
    print("settings: " + json.dumps(document.get("settings", {})) + "\n")
    print(markdown(document["rows"], TABLE_COLUMNS[name]))


# ---------------------------------------------------------------------------


def parser():
    top = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = top.add_subparsers(dest="command", required=True)

    sub.add_parser("machine").set_defaults(func=cmd_machine)

    p = sub.add_parser("wait-http")
    p.add_argument("url")
    p.add_argument("code", type=int)
    p.add_argument("seconds", type=float)
    p.set_defaults(func=cmd_wait_http)

    p = sub.add_parser("leader")
    p.add_argument("seconds", type=float)
    p.add_argument("ports", type=int, nargs="+")
    p.set_defaults(func=cmd_leader)

    p = sub.add_parser("wait-follower")
    p.add_argument("port", type=int)
    p.add_argument("seconds", type=float)
    p.set_defaults(func=cmd_wait_follower)

    p = sub.add_parser("fault")
    p.add_argument("mode", choices=["kill", "sigterm", "api"])
    p.add_argument("--pid", type=int, help="leader pid (kill, sigterm)")
    p.add_argument("--leader-port", type=int, required=True)
    p.add_argument("--follower-port", type=int, required=True)
    p.add_argument("--token-file", help="admin token (api)")
    p.add_argument("--scenario", help="name recorded with the trial")
    p.add_argument("--timeout", type=float, default=30.0)
    p.add_argument("--poll-ms", type=float, default=0.5)
    p.set_defaults(func=cmd_fault)

    p = sub.add_parser("takeover-summary")
    p.add_argument("jsonl")
    p.set_defaults(func=cmd_takeover_summary)

    for name, func in (("wrk-row", cmd_wrk_row),
                       ("pgbench-row", cmd_pgbench_row)):
        p = sub.add_parser(name)
        p.add_argument("meta", nargs="*", help="key=value recorded as is")
        p.set_defaults(func=func)

    p = sub.add_parser("fenced-summary")
    p.add_argument("jsonl")
    p.set_defaults(func=cmd_fenced_summary)

    p = sub.add_parser("footprint")
    p.add_argument("--proc", nargs=5, action="append", required=True,
                   metavar=("NAME", "PID", "METRICS_URL", "APP_PREFIX", "DB"))
    p.add_argument("--duration", type=float, required=True)
    p.add_argument("--scrape-interval", type=float, default=1.0)
    p.add_argument("--sample-interval", type=float, default=5.0)
    p.add_argument("--psql", required=True)
    p.add_argument("--socket-dir", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dbname", required=True)
    p.add_argument("--server-log", required=True)
    p.set_defaults(func=cmd_footprint)

    p = sub.add_parser("assemble")
    p.add_argument("header")
    p.add_argument("rows")
    p.set_defaults(func=cmd_assemble)

    p = sub.add_parser("table")
    p.add_argument("result")
    p.set_defaults(func=cmd_table)
    return top


def main():
    args = parser().parse_args()
    if args.command == "fault" and args.mode != "api" and args.pid is None:
        fail("fault %s needs --pid" % args.mode)
    if args.command == "fault" and args.mode == "api" and not args.token_file:
        fail("fault api needs --token-file")
    args.func(args)


if __name__ == "__main__":
    main()
