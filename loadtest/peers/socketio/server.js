// A live vote counter written the way a team usually writes one with
// Socket.IO: an HTTP POST records the vote in Redis (one Lua script, so a
// vote change is atomic) and the handler io.emit()s the item's new tally to
// everyone. Several nodes share state through Redis and share broadcasts
// through @socket.io/redis-adapter.
//
// It is the peer baseline for chorus's loadtest, so it is deliberately
// ordinary: no per-audience serialisation, no backpressure policy beyond
// what Socket.IO does by default. It has two modes:
//
//   per-vote   (the default, a first version) every vote is broadcast at once.
//   coalesced  (what a good team ships) a vote only marks its item changed;
//              every EMIT_INTERVAL_MS each node emits the latest tallies of
//              the items its votes changed, in one event, to the room every
//              client joins (through the Redis adapter, so to every node's
//              clients). Nothing is sent in an interval without changes.
//
// Environment:
//   PORT              port to listen on (0 = any; default 0)
//   HOST              address to listen on (default 127.0.0.1)
//   REDIS_URL         Redis for counters and the adapter (default redis://127.0.0.1:6379)
//   KEY_PREFIX        prefix for every Redis key and the adapter channel (default "vc")
//   EMIT_MODE         "per-vote" (default) or "coalesced"
//   EMIT_INTERVAL_MS  the coalesced mode's interval (default 100)
//
// HTTP:
//   POST /vote     {"item": "...", "voter": "...", "choice": "strong"|"wrong"|null}
//                  -> {"item_id", "choice", "tally": {"strong", "wrong", "version"}}
//   GET  /tallies  -> {"items": [{"id", "strong", "wrong", "version"}]}
//   GET  /healthz  -> ok
// Socket.IO events sent to clients:
//   "tallies" (on connect) {"items": [...]}: every item voted on
//   "tally" (per-vote mode) {"id", "strong", "wrong", "version"}
//   "tallies-changed" (coalesced mode) {"items": [...]}: the items changed since the last one
// A client keeps, per item, the tally with the highest version it has seen.

"use strict";

const http = require("node:http");
const { Server } = require("socket.io");
const { createAdapter } = require("@socket.io/redis-adapter");
const { createClient, defineScript } = require("redis");

const PORT = Number(process.env.PORT || 0);
const HOST = process.env.HOST || "127.0.0.1";
const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const PREFIX = process.env.KEY_PREFIX || "vc";
const MODE = process.env.EMIT_MODE || "per-vote";
const INTERVAL_MS = Number(process.env.EMIT_INTERVAL_MS || 100);
if (MODE !== "per-vote" && MODE !== "coalesced") {
  console.error(`EMIT_MODE must be "per-vote" or "coalesced", not ${JSON.stringify(MODE)}`);
  process.exit(2);
}
// The room every client joins in the coalesced mode.
const ROOM = "tallies";

const itemsKey = `${PREFIX}:items`;
const tallyKey = (item) => `${PREFIX}:tally:${item}`;
const votesKey = (item) => `${PREFIX}:votes:${item}`;

function toTally(id, hash) {
  return {
    id,
    strong: Number(hash.strong || 0),
    wrong: Number(hash.wrong || 0),
    version: Number(hash.version || 0),
  };
}

async function allTallies(redis) {
  const ids = await redis.sMembers(itemsKey);
  const hashes = await Promise.all(ids.map((id) => redis.hGetAll(tallyKey(id))));
  return ids.map((id, i) => toTally(id, hashes[i]));
}

// One vote per voter per item: changing a vote moves it between the counts.
// Read-then-write in one Lua script, so two changes by the same voter (on
// any node) cannot both see the same previous vote and count it twice.
//   KEYS: votes hash, tally hash, items set; ARGV: voter, choice ("" = none), item
const recordVoteScript = defineScript({
  NUMBER_OF_KEYS: 3,
  SCRIPT: `
    local previous = redis.call("HGET", KEYS[1], ARGV[1])
    local choice = ARGV[2]
    if choice == "" then
      redis.call("HDEL", KEYS[1], ARGV[1])
    else
      redis.call("HSET", KEYS[1], ARGV[1], choice)
    end
    if previous then redis.call("HINCRBY", KEYS[2], previous, -1) end
    if choice ~= "" then redis.call("HINCRBY", KEYS[2], choice, 1) end
    redis.call("HINCRBY", KEYS[2], "version", 1)
    redis.call("SADD", KEYS[3], ARGV[3])
    return redis.call("HGETALL", KEYS[2])
  `,
  transformArguments(item, voter, choice) {
    return [votesKey(item), tallyKey(item), itemsKey, voter, choice || "", item];
  },
  transformReply(flat) {
    const hash = {};
    for (let i = 0; i + 1 < flat.length; i += 2) hash[flat[i]] = flat[i + 1];
    return hash;
  },
});

async function recordVote(redis, item, voter, choice) {
  return toTally(item, await redis.recordVote(item, voter, choice));
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk) => {
      body += chunk;
      if (body.length > 65536) reject(new Error("body too large"));
    });
    req.on("end", () => {
      try {
        resolve(JSON.parse(body));
      } catch (e) {
        reject(e);
      }
    });
    req.on("error", reject);
  });
}

function send(res, status, value) {
  const body = typeof value === "string" ? value : JSON.stringify(value);
  res.writeHead(status, {
    "content-type": typeof value === "string" ? "text/plain" : "application/json",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

async function main() {
  const redis = createClient({ url: REDIS_URL, scripts: { recordVote: recordVoteScript } });
  redis.on("error", (e) => console.error("redis:", e.message));
  await redis.connect();
  const pub = redis.duplicate();
  const sub = redis.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);

  // Coalesced mode: the latest tally of each item changed since the last emit.
  const changed = new Map();
  const publish = (tally) => {
    if (MODE === "per-vote") {
      io.emit("tally", tally);
      return;
    }
    const held = changed.get(tally.id);
    if (!held || held.version < tally.version) changed.set(tally.id, tally);
  };
  if (MODE === "coalesced") {
    setInterval(() => {
      if (changed.size === 0) return;
      const items = [...changed.values()];
      changed.clear();
      io.to(ROOM).emit("tallies-changed", { items });
    }, INTERVAL_MS);
  }

  const server = http.createServer(async (req, res) => {
    try {
      if (req.method === "POST" && req.url === "/vote") {
        const { item, voter, choice } = await readJson(req);
        if (typeof item !== "string" || typeof voter !== "string" ||
            !(choice === "strong" || choice === "wrong" || choice === null)) {
          return send(res, 422, { error: "item, voter and choice are required" });
        }
        const tally = await recordVote(redis, item, voter, choice);
        publish(tally);
        return send(res, 200, {
          item_id: item,
          choice,
          tally: { strong: tally.strong, wrong: tally.wrong, version: tally.version },
        });
      }
      if (req.method === "GET" && req.url === "/tallies") {
        return send(res, 200, { items: await allTallies(redis) });
      }
      if (req.method === "GET" && req.url === "/healthz") {
        return send(res, 200, "ok");
      }
      return send(res, 404, { error: "not found" });
    } catch (e) {
      return send(res, 500, { error: String(e && e.message) });
    }
  });

  const io = new Server(server, {
    adapter: createAdapter(pub, sub, { key: `${PREFIX}:socket.io` }),
  });

  io.on("connection", async (socket) => {
    // Join before reading the snapshot, so no change falls between the two.
    if (MODE === "coalesced") socket.join(ROOM);
    try {
      socket.emit("tallies", { items: await allTallies(redis) });
    } catch (e) {
      console.error("initial tallies:", e.message);
    }
  });

  server.listen(PORT, HOST, () => {
    const { address, port } = server.address();
    console.log(`emit mode: ${MODE}`);
    console.log(`socketio listening on http://${address}:${port}`);
  });

  const stop = () => {
    io.close();
    Promise.allSettled([redis.quit(), pub.quit(), sub.quit()]).finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
