"""The Lua source of the sandbox that runs argocd-cm's Lua: health checks and resource actions.

Kept in a Python string, not a ``.lua`` file, so the pure core reads nothing from disk.
"""

from __future__ import annotations

SOURCE = r"""
-- tether's sandbox for Argo CD-style Lua scripts (health checks, action discovery and actions).
--
-- Loaded once into a fresh Lua runtime per evaluation; returns the function that runs one script.
-- In "health" mode the script's table is read as a health verdict; in "json" mode it is encoded as
-- JSON inside the budget (raw reads only, so no metamethod of the script runs outside it).
-- Scripts see an allow-listed environment: Lua's base functions without load/dofile/require of
-- files, string/table/math, a clock-free os (time and date need an explicit time unless the
-- caller passed `now`), and the Lua 5.1 names gopher-lua scripts use (unpack, table.getn).
-- Work is bounded by an instruction budget, counted by a hook on every coroutine the script runs,
-- so an endless loop ends the same way on every machine.

local sethook = debug.sethook
local load, type, rawget, next, tonumber = load, type, rawget, next, tonumber
local error, tostring, ipairs = error, tostring, ipairs
local create, resume, costatus = coroutine.create, coroutine.resume, coroutine.status
local pack, unpack = table.pack, table.unpack
local real_date, floor, log = os.date, math.floor, math.log
-- Captured before any script runs: a script reaching the real string library through a string's
-- metatable cannot change what the encoder calls.
local gsub, format, byte = string.gsub, string.format, string.byte
local concat, sort = table.concat, table.sort
local math_type, huge = math.type, math.huge

local BUDGET_EXHAUSTED = "instruction budget exhausted"
local MAX_DEPTH = 100 -- far deeper than any Kubernetes object; a table holding itself ends here

local BASE = {
  "assert", "error", "getmetatable", "ipairs", "next", "pairs", "pcall", "rawequal", "rawget",
  "rawlen", "rawset", "select", "setmetatable", "tonumber", "tostring", "type", "xpcall",
  "_VERSION",
}
-- string.dump is left out: its bytecode is only useful to a loader, and there is none.
local STRING = {
  "byte", "char", "find", "format", "gmatch", "gsub", "len", "lower", "match", "rep", "reverse",
  "sub", "upper",
}
local TABLE = { "concat", "insert", "move", "pack", "remove", "sort", "unpack" }
-- math.random and math.randomseed are left out: a health verdict must not depend on chance.
local MATH = {
  "abs", "acos", "asin", "atan", "ceil", "cos", "deg", "exp", "floor", "fmod", "huge", "log",
  "max", "maxinteger", "min", "mininteger", "modf", "pi", "rad", "sin", "sqrt", "tan",
  "tointeger", "type", "ult",
}

local function pick(source, names)
  local out = {}
  for _, name in ipairs(names) do
    out[name] = source[name]
  end
  return out
end

-- Days from 1970-01-01 to a proleptic Gregorian date (the civil-from-days algorithm, inverted).
local function days_from_civil(year, month, day)
  if month <= 2 then
    year = year - 1
  end
  local era = year // 400 -- floor division, so negative years need no special case
  local year_of_era = year - era * 400
  local day_of_year = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
  local day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
  return era * 146097 + day_of_era - 719468
end

local function clock_free(what)
  error(what .. " reads the clock, which tether health checks do not do", 3)
end

-- os.time and os.date work in UTC, the zone of every Kubernetes timestamp, so a verdict does not
-- depend on the machine's zone (Argo CD uses the controller's local zone).
local function make_os(now)
  local os = {}
  function os.time(date)
    if date == nil then
      if now == nil then
        clock_free("os.time()")
      end
      return now
    end
    if type(date) ~= "table" then
      error("bad argument #1 to 'time' (table expected, got " .. type(date) .. ")", 2)
    end
    -- Numeric strings count, as in standard Lua (scripts pass string.match captures); a missing
    -- field takes gopher-lua's default instead of failing, as scripts written for Argo CD expect.
    local function field(name, default)
      local value = tonumber(rawget(date, name))
      return value and floor(value) or default
    end
    local year, month, day = field("year", -1), field("month", -1), field("day", -1)
    local hour, min, sec = field("hour", 12), field("min", 0), field("sec", 0)
    year = year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    local days = days_from_civil(year, month, 1) + day - 1
    return ((days * 24 + hour) * 60 + min) * 60 + sec
  end
  function os.date(format, time)
    format = format or "%c"
    if time == nil then
      if now == nil then
        clock_free("os.date() without a time")
      end
      time = now
    end
    if type(format) == "string" and format:sub(1, 1) ~= "!" then
      format = "!" .. format
    end
    return real_date(format, time)
  end
  function os.difftime(later, earlier)
    return later - (earlier or 0)
  end
  return os
end

local function error_text(value)
  -- Never call tostring on a table here: its __tostring would run outside the budget.
  local kind = type(value)
  if kind == "string" or kind == "number" then
    return tostring(value)
  end
  return "(error object is a " .. kind .. " value)"
end

local function escape(char)
  if char == '"' then
    return '\\"'
  elseif char == "\\" then
    return "\\\\"
  end
  return format("\\u%04x", byte(char))
end

local function quote(text)
  return '"' .. gsub(text, '[%c"\\]', escape) .. '"'
end

-- JSON of a script's result, as Argo CD reads it: a table with keys 1..n is a list, one with string
-- keys a map, an empty table an empty list (the caller restores maps the object had).
local function encode(value)
  local out, n = {}, 0
  local function put(text)
    n = n + 1
    out[n] = text
  end
  local function walk(v, depth)
    if depth > MAX_DEPTH then
      error("the result nests tables over " .. MAX_DEPTH .. " deep (does one hold itself?)", 0)
    end
    local kind = type(v)
    if kind == "nil" then
      put("null")
    elseif kind == "boolean" then
      put(v and "true" or "false")
    elseif kind == "number" then
      if math_type(v) == "integer" then
        put(format("%d", v))
      elseif v ~= v or v == huge or v == -huge then
        error("the result holds a number JSON cannot carry", 0)
      elseif v == floor(v) and v > -2 ^ 53 and v < 2 ^ 53 then
        put(format("%d", floor(v))) -- Go prints a whole float64 without a fraction
      else
        put(format("%.17g", v))
      end
    elseif kind == "string" then
      put(quote(v))
    elseif kind == "table" then
      local count, largest, names = 0, 0, {}
      for key in next, v do
        if math_type(key) == "integer" and key > 0 then
          count = count + 1
          if key > largest then
            largest = key
          end
        elseif type(key) == "string" then
          names[#names + 1] = key
        else
          error("the result has a " .. type(key) .. " table key, which JSON cannot carry", 0)
        end
      end
      if count > 0 and #names > 0 then
        error("a table of the result mixes list items and map keys", 0)
      elseif count > 0 then
        if largest ~= count then
          error("a list of the result has holes", 0)
        end
        put("[")
        for i = 1, count do
          if i > 1 then
            put(",")
          end
          walk(rawget(v, i), depth + 1)
        end
        put("]")
      elseif #names == 0 then
        put("[]")
      else
        sort(names)
        put("{")
        for i, key in ipairs(names) do
          if i > 1 then
            put(",")
          end
          put(quote(key))
          put(":")
          walk(rawget(v, key), depth + 1)
        end
        put("}")
      end
    else
      error("the result holds a " .. kind .. " value, which JSON cannot carry", 0)
    end
  end
  walk(value, 0)
  return concat(out)
end

return function(source, chunkname, obj, budget, period, now, mode)
  local env = pick(_G, BASE)
  env.string = pick(string, STRING)
  env.table = pick(table, TABLE)
  env.math = pick(math, MATH)
  env.os = make_os(now)
  -- Lua 5.1 names that gopher-lua (Argo CD's Lua) scripts use.
  env.unpack = unpack
  env.table.getn = function(t)
    return #t
  end
  env.math.pow = function(x, y)
    return x ^ y
  end
  env.math.mod = math.fmod
  env.math.log10 = function(x)
    return log(x, 10)
  end
  -- The pure core writes nowhere; print is accepted and does nothing.
  env.print = function() end
  local modules = { os = env.os, string = env.string, table = env.table, math = env.math }
  env.require = function(name)
    local module = modules[name]
    if module == nil then
      error("module '" .. tostring(name) .. "' is not available to Lua scripts", 2)
    end
    return module
  end
  env._G = env
  env.obj = obj

  local used, exhausted = 0, false
  local function stop()
    error(BUDGET_EXHAUSTED, 0)
  end
  local function tick()
    used = used + period
    if exhausted or used > budget then
      exhausted = true
      -- From now on every instruction of this coroutine fails, so pcall cannot swallow the end.
      sethook(stop, "", 1)
      error(BUDGET_EXHAUSTED, 0)
    end
  end
  -- Lua hooks are per coroutine: each one the script creates gets the shared budget.
  local function spawn(fn)
    local co = create(fn)
    sethook(co, tick, "", period)
    return co
  end
  env.coroutine = {
    create = spawn,
    resume = resume,
    status = costatus,
    yield = coroutine.yield,
    running = coroutine.running,
    isyieldable = coroutine.isyieldable,
    wrap = function(fn)
      local co = spawn(fn)
      return function(...)
        local results = pack(resume(co, ...))
        if not results[1] then
          error(results[2], 0)
        end
        return unpack(results, 2, results.n)
      end
    end,
  }

  local chunk, syntax_error = load(source, chunkname, "t", env)
  if chunk == nil then
    return "error", syntax_error
  end
  local body = chunk
  if mode == "json" then
    body = function()
      return encode((chunk()))
    end
  end
  local main = spawn(body)
  local ok, result = resume(main)
  if exhausted then
    return "budget"
  end
  if not ok then
    return "error", error_text(result)
  end
  if costatus(main) ~= "dead" then
    return "error", "the script yielded instead of returning"
  end
  if mode == "json" then
    return "json", result
  end
  if result == nil then
    return "none"
  end
  if type(result) ~= "table" then
    return "error", "expected a table from the script, not a " .. type(result)
  end
  -- Raw reads only: a metatable on the result must not run code outside the budget.
  if next(result) == nil then
    return "none"
  end
  local status, message = rawget(result, "status"), rawget(result, "message")
  if type(status) ~= "string" then
    return "invalid", type(status)
  end
  if message ~= nil and type(message) ~= "string" then
    return "error", "the script returned a " .. type(message) .. " message, not a string"
  end
  return "health", status, message or ""
end
"""
