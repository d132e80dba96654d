-- wrk script: every request is a new, non-conflicting 1-night hold.
-- BENCH_OFFSET (days) moves the whole run later, so repeated runs do not collide.
-- Each wrk thread owns a slice of the accommodations; each request moves one night ahead.
local threads = {}
counter = 0

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  units = tonumber(os.getenv("BENCH_UNITS") or "100")
  nthreads = tonumber(os.getenv("BENCH_THREADS") or "2")
  base = os.time() + (3 + tonumber(os.getenv("BENCH_OFFSET") or "0")) * 86400
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  local per = math.floor(units / nthreads)
  local unit = tid * per + (counter % per) + 1
  local night = math.floor(counter / per)
  counter = counter + 1
  local ci = os.date("!%Y-%m-%d", base + night * 86400)
  local co = os.date("!%Y-%m-%d", base + (night + 1) * 86400)
  local body = string.format(
    '{"accommodation_id":%d,"check_in":"%s","check_out":"%s","guests":2,' ..
    '"contact_name":"Bench","contact_phone":"+5491122334455"}', unit, ci, co)
  return wrk.format(nil, "/api/v1/reservations", nil, body)
end

statuses = {}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
