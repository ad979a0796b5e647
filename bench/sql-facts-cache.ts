// What a literal-free cache key would save: the real lexer (scanSync) against the parser,
// next to an exact-text cache hit. Ratios are against parseSync on the same text, same run.
// Run: npx tsc -p tsconfig.json --outDir /tmp/hoopgate-bench && node /tmp/hoopgate-bench/bench/sql-facts-cache.js

import { normalizeSync, parseSync, scanSync } from "libpg-query";
import { extractSqlFacts, loadSqlParser } from "../runtime/facts/sql/index.js";
import { extractUncached } from "../runtime/facts/sql/statements.js";

const QUERIES: Record<string, string> = {
  short: "SELECT id, email FROM users WHERE id = 42",
  join: "SELECT u.id, u.email, o.total FROM users u JOIN orders o ON o.user_id = u.id WHERE u.created_at > '2024-01-01' AND o.status IN ('paid', 'shipped') ORDER BY o.total DESC LIMIT 50",
  cte: "WITH recent AS (SELECT * FROM orders WHERE created_at > now() - interval '7 days') SELECT r.id, count(*) FROM recent r LEFT JOIN items i ON i.order_id = r.id GROUP BY r.id HAVING count(*) > 3",
};

/** The key a literal-free cache would use: every token, literals replaced by their kind. */
function scanKey(text: string): string {
  const literal = new Set(["ICONST", "FCONST", "SCONST"]);
  let key = "";
  for (const t of scanSync(text).tokens) key += (literal.has(t.tokenName) ? `?${t.tokenName}` : t.text) + "\u0001";
  return key;
}

function microseconds(call: () => unknown, iterations = 20_000): number {
  for (let i = 0; i < 2_000; i++) call();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) call();
  return Number(process.hrtime.bigint() - start) / iterations / 1000;
}

await loadSqlParser();
for (const [name, text] of Object.entries(QUERIES)) {
  const parse = microseconds(() => parseSync(text));
  const rows: [string, number][] = [
    ["parseSync", parse],
    ["facts, uncached (parse + walk)", microseconds(() => extractUncached(text))],
    ["scan key (scanSync + join)", microseconds(() => scanKey(text))],
    ["normalizeSync", microseconds(() => normalizeSync(text))],
    ["facts, exact-text hit", microseconds(() => extractSqlFacts(text), 200_000)],
  ];
  console.log(`${name} (${text.length} chars)`);
  for (const [label, us] of rows) console.log(`  ${label.padEnd(32)} ${us.toFixed(2).padStart(8)} µs  ×${(us / parse).toFixed(3)} of parse`);
}
