-- wrk script of the capacity benchmark (loadtests/bench_capacity.py): POST /api/wallet/transfer/
-- with a bearer token and a new Idempotency-Key per request, or one request replayed.
--
-- Environment (set by the benchmark):
--   WRK_USERS       file of "token email" lines, one per user (mode 0600; tokens are secrets)
--   WRK_WORKLOAD    ring | random | hot-receiver | opposite | replay
--   WRK_KEY_PREFIX  keys are <prefix><thread>-<n>; the prefix selects the run's transfers
--   WRK_REPLAY_KEY  replay: the key sent every time (its transfer exists already)
--
-- Every answer is counted by status; the expected one (202, or for replay a 200 marked
-- Idempotent-Replayed) separately. done() prints one JSON line starting with "WRK_RESULT ".

local threads = {}
local thread_count = 0

function setup(thread)
    thread_count = thread_count + 1
    thread:set("thread_id", thread_count)
    table.insert(threads, thread)
end

local users = {}
local workload, prefix, replay_key
-- Globals: done() reads them from each thread with thread:get().
counter, expected, unexpected, statuses = 0, 0, 0, {}

local function load_users(path)
    local found = {}
    for line in io.lines(path) do
        local token, email = line:match("^(%S+)%s+(%S+)$")
        if token then
            table.insert(found, { token = token, email = email })
        end
    end
    return found
end

function init(args)
    users = load_users(os.getenv("WRK_USERS"))
    workload = os.getenv("WRK_WORKLOAD")
    prefix = os.getenv("WRK_KEY_PREFIX")
    replay_key = os.getenv("WRK_REPLAY_KEY")
    math.randomseed(os.time() * 1000 + thread_id)
    wrk.method = "POST"
    wrk.path = "/api/wallet/transfer/"
    wrk.headers["Content-Type"] = "application/json"
end

local function pick()
    -- The sender and receiver of this thread's next transfer, and the amount.
    local n = #users
    counter = counter + 1
    if workload == "ring" then
        local i = ((counter * thread_count + thread_id) % n) + 1
        return users[i], users[(i % n) + 1], "1.00"
    elseif workload == "hot-receiver" then
        return users[math.random(2, n)], users[1], string.format("%d.%02d", math.random(1, 9), math.random(0, 99))
    elseif workload == "opposite" then
        if counter % 2 == 0 then
            return users[1], users[2], "1.00"
        end
        return users[2], users[1], "1.00"
    elseif workload == "replay" then
        return users[1], users[2], "1.00"
    end
    local s = math.random(1, n)
    local r = math.random(1, n - 1)
    if r >= s then
        r = r + 1
    end
    return users[s], users[r], string.format("%d.%02d", math.random(1, 9), math.random(0, 99))
end

function request()
    local sender, receiver, amount = pick()
    local key = replay_key
    if workload ~= "replay" then
        key = string.format("%s%d-%d", prefix, thread_id, counter)
    end
    wrk.headers["Authorization"] = "Bearer " .. sender.token
    wrk.headers["Idempotency-Key"] = key
    local body = string.format('{"receiver_email":"%s","amount":"%s"}', receiver.email, amount)
    return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
    local ok
    if workload == "replay" then
        -- Header names as the server spelled them: HTTP/1.1 names are case-insensitive.
        local replayed = headers["Idempotent-Replayed"] or headers["idempotent-replayed"]
        ok = status == 200 and replayed == "true"
    else
        ok = status == 202
    end
    if ok then
        expected = expected + 1
    else
        unexpected = unexpected + 1
    end
end

function done(summary, latency, requests)
    local total_expected, total_unexpected, by_status = 0, 0, {}
    for _, thread in ipairs(threads) do
        total_expected = total_expected + thread:get("expected")
        total_unexpected = total_unexpected + thread:get("unexpected")
        for status, count in pairs(thread:get("statuses")) do
            by_status[status] = (by_status[status] or 0) + count
        end
    end
    local parts = {}
    for status, count in pairs(by_status) do
        table.insert(parts, string.format('"%s":%d', status, count))
    end
    io.write(string.format(
        'WRK_RESULT {"requests":%d,"duration_us":%d,"expected":%d,"unexpected":%d,'
            .. '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,'
            .. '"p50_us":%d,"p99_us":%d,"max_us":%d,"statuses":{%s}}\n',
        summary.requests, summary.duration, total_expected, total_unexpected,
        summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
        latency:percentile(50), latency:percentile(99), latency.max, table.concat(parts, ",")
    ))
end
