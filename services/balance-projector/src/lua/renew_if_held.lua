-- Extends the lock KEYS[1] by ARGV[2] ms if ARGV[1] (its holder) still holds
-- it. Returns 1 if renewed, 0 if another holder has it or it expired.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
