// Starts @vercel/cosmosdb-server with its known deviations from real Cosmos DB
// patched, so the store code can stay written for the real service:
//  - a point read of a missing id (or of another partition) answers 404, not 500.
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

const { createHttpsServer } = require("@vercel/cosmosdb-server");
const [host, port] = process.argv.slice(2);
const server = createHttpsServer().listen(Number(port), host, () => {
  console.log(`cosmos stand-in ready on https://${host}:${port}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
