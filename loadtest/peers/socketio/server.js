// A live vote counter written the way a team usually writes one with
// Socket.IO: an HTTP POST records the vote in Redis and the handler
// io.emit()s the item's new tally to everyone. Several nodes share state
// through Redis and share broadcasts through @socket.io/redis-adapter.
//
// It is the peer baseline for chorus's loadtest, so it is deliberately
// ordinary: no coalescing, no per-audience serialisation, no backpressure
// policy beyond what Socket.IO does by default.
//
// Environment:
//   PORT        port to listen on (0 = any; default 0)
//   HOST        address to listen on (default 127.0.0.1)
//   REDIS_URL   Redis for counters and the adapter (default redis://127.0.0.1:6379)
//   KEY_PREFIX  prefix for every Redis key and the adapter channel (default "vc")
//
// HTTP:
//   POST /vote     {"item": "...", "voter": "...", "choice": "strong"|"wrong"|null}
//                  -> {"item_id", "choice", "tally": {"strong", "wrong", "version"}}
//   GET  /tallies  -> {"items": [{"id", "strong", "wrong", "version"}]}
//   GET  /healthz  -> ok
// Socket.IO events sent to clients:
//   "tallies" (on connect) {"items": [...]}, "tally" {"id", "strong", "wrong", "version"}

"use strict";

const http = require("node:http");
const { Server } = require("socket.io");
const { createAdapter } = require("@socket.io/redis-adapter");
const { createClient } = require("redis");

const PORT = Number(process.env.PORT || 0);
const HOST = process.env.HOST || "127.0.0.1";
const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const PREFIX = process.env.KEY_PREFIX || "vc";

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
async function recordVote(redis, item, voter, choice) {
  const previous = await redis.hGet(votesKey(item), voter);
  const tx = redis.multi();
  if (choice) tx.hSet(votesKey(item), voter, choice);
  else tx.hDel(votesKey(item), voter);
  if (previous) tx.hIncrBy(tallyKey(item), previous, -1);
  if (choice) tx.hIncrBy(tallyKey(item), choice, 1);
  tx.hIncrBy(tallyKey(item), "version", 1);
  tx.sAdd(itemsKey, item);
  tx.hGetAll(tallyKey(item));
  const results = await tx.exec();
  return toTally(item, results[results.length - 1]);
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
  const redis = createClient({ url: REDIS_URL });
  redis.on("error", (e) => console.error("redis:", e.message));
  await redis.connect();
  const pub = redis.duplicate();
  const sub = redis.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);

  const server = http.createServer(async (req, res) => {
    try {
      if (req.method === "POST" && req.url === "/vote") {
        const { item, voter, choice } = await readJson(req);
        if (typeof item !== "string" || typeof voter !== "string" ||
            !(choice === "strong" || choice === "wrong" || choice === null)) {
          return send(res, 422, { error: "item, voter and choice are required" });
        }
        const tally = await recordVote(redis, item, voter, choice);
        io.emit("tally", tally);
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
    try {
      socket.emit("tallies", { items: await allTallies(redis) });
    } catch (e) {
      console.error("initial tallies:", e.message);
    }
  });

  server.listen(PORT, HOST, () => {
    const { address, port } = server.address();
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
