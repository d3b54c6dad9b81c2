-- The seed's fancy_func, called 5,000,000 times in a loop: the Lua peer of fancy_loop.tl.
local function add(a, b)
  return a + b
end

local function fancy_func(a, b, c, d)
  local e = add(a, b)
  local f = add(c, d)
  local g = add(e, f)
  return g
end

local function main()
  local total = 0
  for i = 0, 5000000 - 1 do
    total = total + fancy_func(i, 1, 2, 3)
  end
  print(total)
end

main()
