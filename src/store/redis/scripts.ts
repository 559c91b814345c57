// The counter operations as Lua scripts: Redis runs each one whole, with nothing in between, so replicas
// sharing a counter never take it past its limit (no read-modify-write from the gateway).
// A window's counter is a hash: `s` spent (increments, settled amounts, a seeded value), `r` reserved.
// Scripts return numbers as strings: Redis would truncate a Lua number reply to an integer, and budgets
// count fractions of a dollar.

/** Keys of a window's counter, and of a parallel count. */
export function windowKey(prefix: string, key: string, windowStart: number): string {
  return `${prefix}c:${key}:${windowStart}`;
}

export function parallelKey(prefix: string, key: string): string {
  return `${prefix}p:${key}`;
}

/** A window's hash outlives the window by this much, so a settle arriving just after the end still finds it. */
export const WINDOW_GRACE_MS = 60_000;

const READ = `
local v = redis.call('HMGET', KEYS[1], 's', 'r')
local s = tonumber(v[1]) or 0
local r = tonumber(v[2]) or 0
`;

export interface ScriptDefinition {
  readonly numberOfKeys: number;
  readonly lua: string;
}

/** KEYS: window hash. ARGV: amount, limit, expire-at ms. Returns {allowed 0|1, spent + reserved}. */
const increment: ScriptDefinition = {
  numberOfKeys: 1,
  lua: `${READ}
if s + r + tonumber(ARGV[1]) <= tonumber(ARGV[2]) then
  s = tonumber(redis.call('HINCRBYFLOAT', KEYS[1], 's', ARGV[1]))
  redis.call('PEXPIREAT', KEYS[1], ARGV[3])
  return {1, tostring(s + r)}
end
return {0, tostring(s + r)}`,
};

/** KEYS: window hash. ARGV: amount, limit, expire-at ms. Returns {granted 0|1, spent + reserved}. */
const reserve: ScriptDefinition = {
  numberOfKeys: 1,
  lua: `${READ}
if s + r + tonumber(ARGV[1]) <= tonumber(ARGV[2]) then
  r = tonumber(redis.call('HINCRBYFLOAT', KEYS[1], 'r', ARGV[1]))
  redis.call('PEXPIREAT', KEYS[1], ARGV[3])
  return {1, tostring(s + r)}
end
return {0, tostring(s + r)}`,
};

/**
 * KEYS: the reservation's window hash, the current window's hash (the same key while the window lasts).
 * ARGV: amount reserved, actual spent, the current window's expire-at ms. Releases the reservation where
 * it still exists and charges `actual` to the current window.
 */
const settle: ScriptDefinition = {
  numberOfKeys: 2,
  lua: `
if redis.call('EXISTS', KEYS[1]) == 1 then
  local r = tonumber(redis.call('HINCRBYFLOAT', KEYS[1], 'r', -tonumber(ARGV[1])))
  if r < 0 then redis.call('HSET', KEYS[1], 'r', '0') end
end
if tonumber(ARGV[2]) > 0 then
  redis.call('HINCRBYFLOAT', KEYS[2], 's', ARGV[2])
  redis.call('PEXPIREAT', KEYS[2], ARGV[3])
end
return 1`,
};

/** KEYS: window hash. ARGV: value, expire-at ms. Sets the spent amount unless the window already has a counter. */
const seed: ScriptDefinition = {
  numberOfKeys: 1,
  lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 's', ARGV[1])
  redis.call('PEXPIREAT', KEYS[1], ARGV[2])
end
return 1`,
};

/** KEYS: parallel key. ARGV: limit, ttl ms. Returns {allowed 0|1, holders, ms until forgotten}. */
const acquire: ScriptDefinition = {
  numberOfKeys: 1,
  lua: `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n < tonumber(ARGV[1]) then
  n = redis.call('INCR', KEYS[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, n, tonumber(ARGV[2])}
end
return {0, n, redis.call('PTTL', KEYS[1])}`,
};

/** KEYS: parallel key. One holder fewer; the key goes with the last one. */
const release: ScriptDefinition = {
  numberOfKeys: 1,
  lua: `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 1 then return redis.call('DECR', KEYS[1]) end
redis.call('DEL', KEYS[1])
return 0`,
};

export const SCRIPTS = { increment, reserve, settle, seed, acquire, release };
export type ScriptName = keyof typeof SCRIPTS;
