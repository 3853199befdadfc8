-- Check out a random free book for a random borrower, or return the loan just made: a write mix whose
-- conflicts (book on loan, loan limit) are normal answers, not errors.
local books = tonumber(os.getenv("BOOKS") or "100000")
local borrowers = tonumber(os.getenv("BORROWERS") or "10000")
math.randomseed(7)
local pending = {}
local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. (os.getenv("TOKEN") or "") }
request = function()
  local loan = table.remove(pending)
  if loan then
    return wrk.format("POST", "/loans/" .. loan .. "/return", headers, "")
  end
  local body = string.format('{"book_id": %d, "borrower_id": %d}', math.random(1, books), math.random(1, borrowers))
  return wrk.format("POST", "/loans", headers, body)
end
response = function(status, headers, body)
  if status == 201 then
    local id = body:match('"id":(%d+)')
    if id then table.insert(pending, id) end
  elseif status >= 500 then
    io.stderr:write("server error " .. status .. "\n")
  end
end
