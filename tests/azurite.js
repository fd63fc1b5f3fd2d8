// Runs Azurite's blob service as its main.js does, minus one cost that makes big containers unloadable.
//
// Usage: node tests/azurite.js <azurite>/dist/src/blob/main.js [Azurite's own flags...]
//
// Azurite finds a blob with findOne({accountName, containerName, name, snapshot}) on every
// write and read of one blob. LokiJS uses a binary index for the first key only, and
// accountName is the same for every blob, so each lookup scans the whole account: loading
// N blobs costs O(N²), and 100,000 never finish. The four keys name at most one blob, so
// asking for `name` first (also indexed) finds the same blob; listings run other queries
// and are unchanged, as is everything Azurite answers.
"use strict";

const path = require("path");

const main = path.resolve(process.argv.splice(2, 1)[0]);
// The module instance Azurite itself loads, so the patch reaches its collections.
const Loki = require(require.resolve("lokijs", { paths: [path.dirname(main)] }));

const BLOB_KEY = ["accountName", "containerName", "name", "snapshot"];
const findOne = Loki.Collection.prototype.findOne;

Loki.Collection.prototype.findOne = function (query) {
  const keys = query && typeof query === "object" ? Object.keys(query) : [];
  const oneBlob = keys.length === BLOB_KEY.length && BLOB_KEY.every((key) => keys.includes(key));
  if (oneBlob && this.binaryIndices.name) {
    const { name, ...rest } = query;
    return findOne.call(this, { name, ...rest });
  }
  return findOne.call(this, query);
};

require(main);
