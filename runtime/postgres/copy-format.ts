// How a COPY … TO STDOUT lays out its rows, read from the statement with the server's own
// grammar, so the detectors can split the CopyData the server sends into fields. The
// CopyOutResponse says only text or binary: the delimiter, NULL string, quoting and header
// are in the statement. Anything the masker cannot read the same way the server writes it —
// binary output, another encoding, two COPYs with different layouts in one query, an option
// not known here — is refused before the statement runs.

import type { CopyStmt, DefElem, Node } from "libpg-query";
import { parse } from "../facts/sql/parser.js";
import type { CopyFormat } from "../masking/index.js";

export type CopyOutLayout = { ok: true; format: CopyFormat } | { ok: false; reason: string };

/** options of COPY TO that change nothing in the bytes of the output rows */
const LAYOUT_NEUTRAL = new Set(["force_quote"]);

/** The layout of the COPY … TO STDOUT statements in `text` (one query may hold several). */
export function copyOutLayout(text: string): CopyOutLayout {
  const parsed = parse(text);
  if (!parsed.ok) return { ok: false, reason: `the statement does not parse: ${parsed.error}` };
  const layouts: CopyFormat[] = [];
  for (const raw of parsed.tree.stmts ?? []) {
    const copy = (raw.stmt as { CopyStmt?: CopyStmt } | undefined)?.CopyStmt;
    if (copy === undefined || copy.is_from || copy.is_program || copy.filename !== undefined) continue;
    const layout = layoutOf(copy.options ?? []);
    if (!layout.ok) return layout;
    layouts.push(layout.format);
  }
  const [first] = layouts;
  if (first === undefined) return { ok: false, reason: "no COPY … TO STDOUT in the statement" };
  if (layouts.some((l) => JSON.stringify(l) !== JSON.stringify(first))) {
    return { ok: false, reason: "COPY statements with different layouts in one query cannot be scanned by detectors" };
  }
  return { ok: true, format: first };
}

function layoutOf(options: Node[]): CopyOutLayout {
  const format: CopyFormat = { kind: "text" };
  for (const node of options) {
    const option = (node as { DefElem?: DefElem }).DefElem;
    const name = option?.defname;
    if (option === undefined || name === undefined) return { ok: false, reason: "unreadable COPY option" };
    const value = option.arg;
    switch (name) {
      case "format": {
        const kind = stringValue(value);
        if (kind === "binary") return { ok: false, reason: "binary COPY output cannot be scanned by detectors: use FORMAT text or csv" };
        if (kind !== "text" && kind !== "csv") return { ok: false, reason: `unknown COPY format ${JSON.stringify(kind)}` };
        format.kind = kind;
        break;
      }
      case "delimiter":
      case "null":
      case "quote":
      case "escape": {
        const text = stringValue(value);
        if (text === undefined) return { ok: false, reason: `COPY option ${name.toUpperCase()} needs a string` };
        format[name] = text;
        break;
      }
      case "header": {
        const header = booleanValue(value);
        if (header === undefined) return { ok: false, reason: "COPY HEADER must be true or false for output" };
        format.header = header;
        break;
      }
      case "encoding":
        return { ok: false, reason: "COPY with ENCODING cannot be scanned by detectors (the output would not be UTF-8)" };
      default:
        if (!LAYOUT_NEUTRAL.has(name)) return { ok: false, reason: `COPY option ${name.toUpperCase()} is not supported with detectors` };
    }
  }
  return { ok: true, format };
}

function stringValue(value: Node | undefined): string | undefined {
  const node = value as { String?: { sval?: string } } | undefined;
  return node?.String?.sval;
}

/** PostgreSQL's defGetBoolean: no value is true; 0 or 1; true/false/on/off in any case */
function booleanValue(value: Node | undefined): boolean | undefined {
  if (value === undefined) return true;
  const node = value as { Boolean?: { boolval?: boolean }; Integer?: { ival?: number } };
  if (node.Boolean !== undefined) return node.Boolean.boolval === true;
  if (node.Integer !== undefined) {
    const n = node.Integer.ival ?? 0;
    return n === 0 ? false : n === 1 ? true : undefined;
  }
  const text = stringValue(value)?.toLowerCase();
  if (text === undefined) return undefined;
  if (text === "true" || text === "on") return true;
  if (text === "false" || text === "off") return false;
  return undefined;
}
