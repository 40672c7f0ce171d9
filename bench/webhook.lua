-- wrk script: POST signed WeChat text messages, each with a unique MsgId.
-- WRK_QUERIES names a file of signed query strings (the signature covers token, timestamp
-- and nonce, not the body), one per request: a (timestamp, nonce) pair is good once.
local queries_file = os.getenv("WRK_QUERIES")
local run = os.time() % 100000
local base = run * 1000000000
local threads = {}
local next_id = 1

-- WRK_TEXTS=help sends the 帮助 command (the webhook path alone: nothing is filed);
-- otherwise residents' requests, each of which becomes a ticket.
local requests = {
  "3号楼2单元的楼道灯坏了一个星期了，晚上下楼很不安全，麻烦物业尽快来修一下。",
  "小区东门口每天晚上都有车乱停，把消防通道堵住了，希望社区管一管。",
  "16号楼的电梯这两天老是停在半路，家里有老人，上下楼很担心，请尽快安排检修。",
  "楼上装修从早上七点就开始打电钻，周末也不停，噪音太大了，孩子没法休息。",
}
-- WRK_TEXTS=vote casts ballots in poll #1 (bench/polls.py).
local votes = {"投票 1 A", "投票 1 B", "投票 1 C"}
local kind = os.getenv("WRK_TEXTS")
local texts = kind == "help" and {"帮助"} or kind == "vote" and votes or requests
local numbered = texts == requests
-- WRK_NEW_SENDERS=1: every request from a sender never seen before (a new person row each
-- time); otherwise 250 senders a thread, who soon all have their person row.
local new_senders = os.getenv("WRK_NEW_SENDERS") == "1"

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  -- this thread's share of the signed URLs: every other line, by thread id
  queries = {}
  local n = 0
  for line in io.lines(queries_file) do
    if n % 2 == (tid - 1) % 2 then
      queries[#queries + 1] = line
    end
    n = n + 1
  end
end

function request()
  counter = counter + 1
  local body = string.format(
    "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>" ..
    "<FromUserName><![CDATA[o_bench_%d_%s]]></FromUserName>" ..
    "<CreateTime>%d</CreateTime><MsgType><![CDATA[text]]></MsgType>" ..
    "<Content><![CDATA[%s%s]]></Content><MsgId>%d</MsgId></xml>",
    tid, new_senders and string.format("n%d_%d", base, counter) or tostring(counter % 250),
    os.time(), texts[counter % #texts + 1],
    -- a different room each time, so no two requests are the same text: the run's own
    -- number too, or a sender's texts repeat those of the settle and earlier rounds and are
    -- answered "already filed" instead of filed
    numbered and string.format("（%d-%d室）", run, counter) or "",
    base + tid * 100000000 + counter)
  local query = queries[(counter - 1) % #queries + 1]
  return wrk.format("POST", "/wechat?" .. query, {["Content-Type"] = "text/xml"}, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"non_2xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
