-- wrk script for bench/run.py. BENCH_MODE picks what each request is:
--   get    the URL as given (no per-request work in wrk);
--   call   the URL plus ?call_id=<tag>-<n>, four answers per call, as a platform makes them;
--   event  POST of a MiniVoice webhook with a fresh webhook-id and call id each time.
-- done() prints one JSON line that run.py reads: counts, errors and latency percentiles.

local mode = os.getenv("BENCH_MODE") or "get"
local tag = os.getenv("BENCH_TAG") or "run"
local threads = {}
local counter = 0
local thread_id = 0

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function init(args)
  thread_id = wrk.thread:get("thread_id") or 0
end

local function next_id()
  counter = counter + 1
  return tag .. "-" .. thread_id .. "-" .. counter
end

if mode == "call" then
  request = function()
    counter = counter + 1
    local call = tag .. "-" .. thread_id .. "-" .. math.floor(counter / 4)
    return wrk.format("GET", wrk.path .. "?call_id=" .. call)
  end
elseif mode == "event" then
  request = function()
    local id = next_id()
    local body = '{"event": "call.completed", "created_at": "2026-05-29T12:10:00Z", '
      .. '"call": {"id": "call_' .. id .. '", "status": "completed", "direction": "inbound", '
      .. '"from": "+15551230001", "to": "+15551230002"}, "variables": {}, "data": {}}'
    local headers = {["Content-Type"] = "application/json", ["webhook-id"] = "msg_" .. id}
    return wrk.format("POST", wrk.path, headers, body)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "mean_us": %.1f, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.mean, e.connect, e.read, e.write, e.status, e.timeout))
end
