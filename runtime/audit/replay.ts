// `hoopgate audit replay ID`: a session's statements, decisions and masked results as a
// transcript a person reads top to bottom.

import type { ChainEntry } from "./chain.js";
import type { SessionSummary } from "./read.js";
import type { StatementOutput } from "./sink.js";

export function replayTranscript(session: SessionSummary, entries: readonly ChainEntry[]): string {
  const lines = [
    `session ${session.id} — ${session.subject} (${session.issuer}) on ${session.connection} [${session.protocol}]`,
    `started ${session.startedAt}${session.client ? ` from ${session.client}` : ""}`,
    "",
  ];
  for (const entry of entries) {
    const d = entry.data;
    switch (entry.type) {
      case "statement": {
        lines.push(`-- ${entry.time}  ${String(d.decision)}${rulesOf(d.rules)}${d.approval ? `  approval ${String(d.approval)}` : ""}`);
        lines.push(`${String(d.text)}`);
        // a long statement's record keeps its start (bounds.ts): say so, with what identifies the whole
        if (d.textSha256 !== undefined) lines.push(`   … cut: the record keeps the first ${Buffer.byteLength(String(d.text))} of ${Number(d.textBytes)} bytes (sha256 ${String(d.textSha256)})`);
        if (d.output !== undefined) lines.push(...table(d.output as StatementOutput));
        const failure = d.error ?? (d.decision === "deny" ? d.reason : undefined);
        if (failure !== undefined) lines.push(`   ✗ ${String(failure)}`);
        else lines.push(`   (${Number(d.rows ?? 0)} rows, ${Number(d.bytes ?? 0)} bytes, ${Number(d.durationMs ?? 0)} ms)`);
        lines.push("");
        break;
      }
      case "session_ended":
        lines.push(`ended ${entry.time}: ${Number(d.rows ?? 0)} rows, ${Number(d.bytes ?? 0)} bytes${d.error ? `, ${String(d.error)}` : ""}`);
        break;
      case "session_started":
        break;
      default:
        lines.push(`-- ${entry.time}  ${entry.type}${d.request ? ` ${String(d.request)}` : ""}`, "");
    }
  }
  return `${lines.join("\n")}\n`;
}

function rulesOf(rules: unknown): string {
  return Array.isArray(rules) && rules.length > 0 ? `  (${rules.join(", ")})` : "";
}

function table(output: StatementOutput): string[] {
  if (output.columns.length === 0) return [];
  const cells = [output.columns, ...output.rows.map((r) => r.map((v) => (v === null ? "NULL" : v)))];
  const widths = output.columns.map((_, i) => Math.min(40, Math.max(...cells.map((r) => (r[i] ?? "").length))));
  const line = (r: string[]): string => `   ${r.map((v, i) => clip(v, widths[i]!).padEnd(widths[i]!)).join(" | ")}`.trimEnd();
  const out = [line(output.columns), `   ${widths.map((w) => "-".repeat(w)).join("-+-")}`, ...cells.slice(1).map(line)];
  if (output.truncated) out.push("   … (output truncated)");
  return out;
}

function clip(value: string, width: number): string {
  return value.length <= width ? value : `${value.slice(0, width - 1)}…`;
}
