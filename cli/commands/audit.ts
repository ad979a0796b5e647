import { allEntries, getSession, listSessions, replayTranscript, toOcsf, verifyAuditLog } from "../../runtime/audit/index.js";
import { parse, UsageError } from "../args.js";
import { writeJson } from "../output.js";
import { openStoreFrom, storeOptions } from "../store-option.js";

export const summary = "audit log: verify | sessions list | sessions show ID | replay ID | export (--config FILE | --store URL|DIR)";

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...storeOptions, format: { type: "string" }, limit: { type: "string" } });
  const json = values.format === "json";
  if (values.format !== undefined && !json) throw new UsageError(`--format must be json, got "${values.format}"`);
  const [verb, ...args] = positionals;
  const action = `${verb ?? ""}${verb === "sessions" ? ` ${args[0] ?? ""}` : ""}`;
  const id = verb === "sessions" ? args[1] : args[0];
  const known = ["verify", "sessions list", "sessions show", "replay", "export"];
  if (!known.includes(action)) throw new UsageError(`expected one of: ${known.join(", ")}`);
  if ((action === "sessions show" || action === "replay") && id === undefined) throw new UsageError(`${action} needs a session ID`);
  let store;
  try {
    store = await openStoreFrom(values);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    process.stderr.write(`hoopgate audit: ${(err as Error).message}\n`);
    return 2;
  }
  try {
    switch (action) {
      case "verify": {
        const result = await verifyAuditLog(store);
        if (json) writeJson(result);
        else if (result.ok) process.stdout.write(`✓ audit log intact: ${result.entries} entries${result.head ? `, head ${result.head}` : ""}\n`);
        else if (result.session !== undefined) {
          process.stderr.write(`✗ audit log broken${result.seq === null ? "" : ` at entry ${result.seq}`} (${result.problem} session row): ${result.message}\n  the chain's ${result.entries} entries verified; the sessions table does not match them\n`);
        } else process.stderr.write(`✗ audit log broken at entry ${result.seq} (${result.problem}): ${result.message}\n  ${result.entries} entries before it verified\n`);
        return result.ok ? 0 : 1;
      }
      case "sessions list": {
        const limit = values.limit === undefined ? 50 : Number(values.limit);
        if (!Number.isInteger(limit) || limit < 1) throw new UsageError("--limit must be a positive integer");
        const sessions = await listSessions(store, { limit });
        if (json) writeJson(sessions);
        else for (const s of sessions) {
          process.stdout.write(`${s.id}  ${s.startedAt}  ${s.subject}  ${s.connection}  ${s.statements} statements  ${s.rows} rows  ${s.endedAt === null ? "open" : `ended ${s.endedAt}`}\n`);
        }
        return 0;
      }
      case "sessions show":
      case "replay": {
        const found = await getSession(store, id!);
        if (found === undefined) {
          process.stderr.write(`hoopgate audit: no session ${id}\n`);
          return 1;
        }
        if (json || action === "sessions show") writeJson(found);
        else process.stdout.write(replayTranscript(found.session, found.entries));
        return 0;
      }
      default: {
        for await (const entry of allEntries(store)) process.stdout.write(`${JSON.stringify(toOcsf(entry))}\n`);
        return 0;
      }
    }
  } finally {
    await store.close();
  }
}
