-- GET /books/{id} with ids spread uniformly over the generated library.
local books = tonumber(os.getenv("BOOKS") or "100000")
math.randomseed(42)
request = function()
  return wrk.format("GET", "/books/" .. math.random(1, books))
end
