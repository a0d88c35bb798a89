-- wrk script for the serve benchmark: sets the request headers of a case from the
-- environment once (no per-request Lua) and prints a JSON summary when done.
local inm = os.getenv("BENCH_IF_NONE_MATCH")
if inm and inm ~= "" then wrk.headers["If-None-Match"] = inm end
local ae = os.getenv("BENCH_ACCEPT_ENCODING")
if ae and ae ~= "" then wrk.headers["Accept-Encoding"] = ae end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "status_errors": %d, ' ..
    '"socket_errors": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.status,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
