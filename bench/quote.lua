-- wrk script: quotes for random stays on the seeded accommodations.
-- BENCH_OFFSET (days) moves the quoted window (300 days) later, as for reserve.lua.
function init(args)
  units = tonumber(os.getenv("BENCH_UNITS") or "100")
  base = os.time() + (3 + tonumber(os.getenv("BENCH_OFFSET") or "0")) * 86400
  math.randomseed(os.time())
end

function request()
  local unit = math.random(1, units)
  local start = math.random(0, 300)
  local ci = os.date("!%Y-%m-%d", base + start * 86400)
  local co = os.date("!%Y-%m-%d", base + (start + 3) * 86400)
  return wrk.format("GET", string.format("/api/v1/accommodations/%d/quote?check_in=%s&check_out=%s&guests=2", unit, ci, co))
end
