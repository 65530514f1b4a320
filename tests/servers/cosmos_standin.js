// Starts @vercel/cosmosdb-server with its known deviations from real Cosmos DB
// patched, so the store code can stay written for the real service:
//  - a point read of a missing id (or of another partition) answers 404, not 500;
//  - hierarchical partition keys use every level, not only the first: ids are unique
//    per full key ([userId, threadId]) as in real Cosmos DB, not per userId;
//  - a composite index serves an ORDER BY in its own order or fully reversed, as in real
//    Cosmos DB (learn.microsoft.com/azure/cosmos-db/index-policy#composite-indexes); the
//    stand-in only accepted its own order;
//  - connections are kept alive, as real Cosmos DB keeps them: by default the stand-in
//    answers `connection: close`, so every request paid a new TLS handshake (~5 ms of
//    CPU in the client, more than the request itself).
// It also injects faults on demand, for the fault tests: POST /__faults with
// {"status": 429|503|..., "count": N, "method": "POST", "path": "regex", "query": bool,
//  "retryAfterMs": 10, "skip": 0} lets `skip` matching requests through, then answers the
// next N with that status (429s carry
// x-ms-retry-after-ms, as real Cosmos DB sends); GET /__faults reports what was injected.
// Usage: node tests/servers/cosmos_standin.js HOST PORT
"use strict";

const readDocument = require("@vercel/cosmosdb-server/lib/handler/read-document");
const original = readDocument.default;
readDocument.default = (account, req, res, params) => {
  try {
    return original(account, req, res, params);
  } catch (error) {
    if (error instanceof TypeError) {
      res.statusCode = 404;
      return {
        code: "NotFound",
        message: "Entity with the specified id does not exist in the system.",
      };
    }
    throw error;
  }
};

const queryHelpers = require("@zeit/cosmosdb-query/lib/helpers");
const sortByIndex = queryHelpers.sort;
queryHelpers.sort = (collection, getRid, compositeIndexes, ...orders) => {
  const flip = (order) => (order === "ascending" ? "descending" : "ascending");
  const reversed = (compositeIndexes || []).map((paths) =>
    paths.map((path) => ({ ...path, order: flip(path.order) })),
  );
  const indexes = compositeIndexes ? [...compositeIndexes, ...reversed] : compositeIndexes;
  return sortByIndex(collection, getRid, indexes, ...orders);
};

const headerUtils = require("@vercel/cosmosdb-server/lib/utils/get-partition-from-header");
const Items = require("@vercel/cosmosdb-server/lib/account/items").default;
const getValue = require("@vercel/cosmosdb-server/lib/utils/get-value").default;
const parseKey = headerUtils.parsePartitionKey;
headerUtils.parsePartitionKey = (key, fallback) => {
  const parsed = JSON.parse(key);
  return Array.isArray(parsed) && parsed.length > 1
    ? JSON.stringify(parsed)
    : parseKey(key, fallback);
};
const getPartition = Items.prototype._getPartition;
Items.prototype._getPartition = function (data) {
  const paths = this._partitionKeyPath || [];
  if (paths.length <= 1) return getPartition.call(this, data);
  return JSON.stringify(paths.map((path) => getValue(path.slice(1).split("/"), data)));
};

const { createHttpsServer } = require("@vercel/cosmosdb-server");
const [host, port] = process.argv.slice(2);
const server = createHttpsServer({ keepAlive: true });
const handlers = server.listeners("request");
server.removeAllListeners("request");
let faults = [];
let injected = 0;

function matches(fault, req) {
  if (fault.method && fault.method !== req.method) return false;
  if (fault.path && !new RegExp(fault.path).test(req.url)) return false;
  const isQuery = (req.headers["content-type"] || "").includes("query+json");
  if (fault.query !== undefined && fault.query !== isQuery) return false;
  return true;
}

server.on("request", (req, res) => {
  if (req.url === "/__faults") {
    if (req.method === "GET") {
      res.setHeader("content-type", "application/json");
      return res.end(JSON.stringify({ injected, armed: faults }));
    }
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const fault = JSON.parse(body || "{}");
      faults = fault.status ? [fault] : [];
      injected = 0;
      res.setHeader("content-type", "application/json");
      res.end("{}");
    });
    return;
  }
  const fault = faults.find((f) => f.count > 0 && matches(f, req));
  if (fault && fault.skip > 0) {
    fault.skip -= 1;
  } else if (fault) {
    fault.count -= 1;
    injected += 1;
    req.resume();
    res.statusCode = fault.status;
    res.setHeader("content-type", "application/json");
    res.setHeader("x-ms-activity-id", "00000000-0000-0000-0000-000000000000");
    if (fault.status === 429) {
      res.setHeader("x-ms-retry-after-ms", String(fault.retryAfterMs ?? 10));
      res.setHeader("x-ms-substatus", "3200");
    }
    return res.end(JSON.stringify({ code: String(fault.status), message: "injected fault" }));
  }
  for (const handler of handlers) handler.call(server, req, res);
});
server.listen(Number(port), host, () => {
  console.log(`cosmos stand-in ready on https://${host}:${port}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
