-- wrk script for the load test (tests/hostile.rs) and the soak (tests/soak/soak.sh): cycles
-- through the paths given after `--`, each asked for with `Accept-Encoding: br, gzip` and
-- without, and prints one JSON line of totals when done (wrk's own errors included).
local pool = {}

function init(args)
  for _, path in ipairs(args) do
    pool[#pool + 1] = wrk.format("GET", path, { ["Accept-Encoding"] = "br, gzip" })
    pool[#pool + 1] = wrk.format("GET", path)
  end
  if #pool == 0 then
    pool[1] = wrk.format("GET", "/")
  end
end

local n = 0

function request()
  n = n + 1
  return pool[(n % #pool) + 1]
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.timeout,
    e.status, latency:percentile(99)))
end
