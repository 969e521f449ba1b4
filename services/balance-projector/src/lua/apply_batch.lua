-- Applies a batch of events to the read model, in order, in one call.
--
-- KEYS[1..4] are the generation's shared keys: idx:open, idx:closed,
-- stalled:acct, stalled:xfer. ARGV[1] names each event's kind, one letter
-- per event: 'a' for an account event, 't' for a transfer event. Each
-- event's own keys and arguments follow in KEYS and ARGV, in the batch's
-- order (see `apply.rs`, which builds them):
--   a: KEYS  acct, hist, xfer (of a debit's transfer)
--      ARGV  id, sequence, type, occurred_at, holder, currency, balance_after,
--            history entry, transfer_id, to, amount, transfer currency
--   t: KEYS  xfer
--      ARGV  id, sequence, status, reason, from, to, amount, currency
-- Returns one code per event: 1 applied, 0 skipped (not newer than the
-- view), -1 a gap (the stream stalls), -2 the stream stalled earlier,
-- -3 an account whose first event is not account_opened (it stalls).
--
-- Every event is checked against the stream's version here, inside the
-- script, so applying a batch again changes nothing.

local OPEN, CLOSED, STALLED_ACCOUNTS, STALLED_TRANSFERS = KEYS[1], KEYS[2], KEYS[3], KEYS[4]

local function stall(stalled, id, why)
  redis.call('HSET', stalled, id, why)
end

-- An account's state is read once per call and written once at its end:
-- a batch sorted by stream (see `Store::apply`) carries many events of one
-- account in a row, and each then costs no Redis call of its own but its
-- history entry.
local accounts = {}
local touched = {}

local function load(acct, id)
  local state = accounts[acct]
  if state then return state end
  local current = redis.call('HMGET', acct, 'version', 'status', 'balance')
  state = {
    id = id,
    version = tonumber(current[1] or '0'),
    status = current[2],
    was = current[2],
    balance = current[3],
    stalled = redis.call('HEXISTS', STALLED_ACCOUNTS, id) == 1,
    history = {},
  }
  accounts[acct] = state
  return state
end

local function account(k, a)
  local id = ARGV[a + 1]
  local seq = tonumber(ARGV[a + 2])
  local acct = KEYS[k + 1]
  local state = load(acct, id)
  if seq <= state.version then return 0 end
  if state.stalled then return -2 end
  if seq ~= state.version + 1 then
    stall(STALLED_ACCOUNTS, id, 'expected sequence ' .. (state.version + 1) .. ', got ' .. ARGV[a + 2])
    state.stalled = true
    return -1
  end
  local kind = ARGV[a + 3]
  if kind == 'account_opened' then
    redis.call('HSET', acct, 'holder', ARGV[a + 5], 'currency', ARGV[a + 6], 'opened_at', ARGV[a + 4])
    state.status = 'open'
    state.balance = '0'
  elseif not state.status then
    stall(STALLED_ACCOUNTS, id, 'first event is ' .. kind .. ', not account_opened')
    state.stalled = true
    return -3
  end
  if kind == 'account_closed' then state.status = 'closed' end
  if ARGV[a + 7] ~= '' then state.balance = ARGV[a + 7] end
  state.version = seq
  state.version_text = ARGV[a + 2]
  state.updated_at = ARGV[a + 4]
  local history = state.history
  if #history == 0 then
    touched[#touched + 1] = acct
    state.hist = KEYS[k + 2]
  end
  history[#history + 1] = ARGV[a + 2]
  history[#history + 1] = ARGV[a + 8]
  if kind == 'transfer_debited' and redis.call('HEXISTS', KEYS[k + 3], 'status') == 0 then
    redis.call('HSET', KEYS[k + 3], 'status', 'pending', 'from', id, 'to', ARGV[a + 10],
      'amount', ARGV[a + 11], 'currency', ARGV[a + 12])
  end
  return 1
end

-- Writes every account the call changed: its hash, its place in exactly
-- one of the two balance indexes, its new history entries.
local function write_accounts()
  for _, acct in ipairs(touched) do
    local state = accounts[acct]
    redis.call('HSET', acct, 'balance', state.balance, 'status', state.status,
      'version', state.version_text, 'updated_at', state.updated_at)
    if state.status == 'open' then
      if state.was == 'closed' then redis.call('ZREM', CLOSED, state.id) end
      redis.call('ZADD', OPEN, state.balance, state.id)
    else
      if state.was ~= 'closed' then redis.call('ZREM', OPEN, state.id) end
      redis.call('ZADD', CLOSED, state.balance, state.id)
    end
    redis.call('ZADD', state.hist, unpack(state.history))
  end
end

local function transfer(k, a)
  local id = ARGV[a + 1]
  local seq = tonumber(ARGV[a + 2])
  local xfer = KEYS[k + 1]
  local version = tonumber(redis.call('HGET', xfer, 'version') or '0')
  if seq <= version then return 0 end
  local stalled = STALLED_TRANSFERS
  if redis.call('HEXISTS', stalled, id) == 1 then return -2 end
  if seq ~= version + 1 then
    stall(stalled, id, 'expected sequence ' .. (version + 1) .. ', got ' .. ARGV[a + 2])
    return -1
  end
  redis.call('HSET', xfer, 'version', ARGV[a + 2], 'status', ARGV[a + 3], 'from', ARGV[a + 5],
    'to', ARGV[a + 6], 'amount', ARGV[a + 7], 'currency', ARGV[a + 8])
  if ARGV[a + 4] ~= '' then
    redis.call('HSET', xfer, 'reason', ARGV[a + 4])
  else
    redis.call('HDEL', xfer, 'reason')
  end
  return 1
end

local kinds = ARGV[1]
local codes = {}
local k, a = 4, 1
for i = 1, #kinds do
  if string.byte(kinds, i) == 97 then -- 'a'
    codes[i] = account(k, a)
    k = k + 3
    a = a + 12
  else
    codes[i] = transfer(k, a)
    k = k + 1
    a = a + 8
  end
end
write_accounts()
return codes
