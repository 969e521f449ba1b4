-- KEYS[1] := ARGV[2] if it holds ARGV[1]. Returns 1 if set, 0 if not.
-- Switching the served generation: only from the one the rebuild started at.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2])
  return 1
end
return 0
