// Starts @vercel/cosmosdb-server with its known deviations from real Cosmos DB
// patched, so the store code can stay written for the real service:
//  - a point read of a missing id (or of another partition) answers 404, not 500;
//  - hierarchical partition keys use every level, not only the first: ids are unique
//    per full key ([userId, threadId]) as in real Cosmos DB, not per userId.
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
const server = createHttpsServer().listen(Number(port), host, () => {
  console.log(`cosmos stand-in ready on https://${host}:${port}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
