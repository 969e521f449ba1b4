-- Deletes the lock KEYS[1] if ARGV[1] (its holder) still holds it: a
-- holder whose lock expired must not release its successor's.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
