-- wrk_report.lua: prints wrk's own measurements as "BENCH key value" lines
-- for bench/bench.py wrk-row. Latencies are in microseconds and cover the
-- answered requests only; status_errors counts answers outside 2xx/3xx
-- (a 503 from /v1/health/write-ready is one), timeouts the requests still
-- unanswered after wrk's --timeout.

local function emit(key, value)
  io.write(string.format("BENCH %s %.3f\n", key, value))
end

function done(summary, latency, _)
  emit("duration_us", summary.duration)
  emit("requests", summary.requests)
  emit("connect_errors", summary.errors.connect)
  emit("read_errors", summary.errors.read)
  emit("write_errors", summary.errors.write)
  emit("status_errors", summary.errors.status)
  emit("timeouts", summary.errors.timeout)
  emit("p50_us", latency:percentile(50))
  emit("p99_us", latency:percentile(99))
  emit("max_us", latency.max)
end
