// Masking throughput on realistic DataRows: detectors as plain JS regexes over every value
// (the baseline) against the byte-prefiltered path over raw messages, row by row and as the
// proxy masks them (the DataRows of one 64 KiB chunk as one run), in the same run.
import type { MaskStrategy } from "../runtime/bundle/format.js";
import { DETECTOR_BY_NAME } from "../runtime/masking/detectors/index.js";
import { buildRowMaskPlan, type ColumnType, maskDataRow, maskDataRows, type RowMaskPlan } from "../runtime/masking/index.js";
import { DETECTORS, type DetectorName } from "../runtime/schema/attributes.js";
import { seededRandom } from "../runtime/seeded-random.js";
import { encodeDataRow } from "./pg-rows.js";

const TARGET_BYTES = 50 * 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;
const RUNS = 3;
const KEY = Buffer.alloc(32, 1);

const FIRST = ["Ada", "Grace", "Linus", "Margaret", "José", "Zoë", "Ken", "Barbara", "Dennis", "Frances"];
const LAST = ["Lovelace", "Hopper", "Torvalds", "Hamilton", "Müller", "Ritchie", "Liskov", "Allen", "Thompson", "Ng"];
const WORDS = ("the order was shipped on time customer asked about invoice refund pending review " +
  "delivered warehouse note call back next week priority normal package damaged replaced").split(" ");
const SECRETS = ["card 4111 1111 1111 1111 on file", "ssn 123-45-6789", "call (415) 555-2671", "iban DE89370400440532013000"];

// Columns: id int8, name text, created_at timestamptz, email text, notes text, amount numeric, status text
const OIDS = [20, 25, 1184, 25, 25, 1700, 25];
const TYPES: ColumnType[] = OIDS.map((dataTypeID) => ({ dataTypeID, format: "text" }));
/** the same columns as a client with binary results (asyncpg, JDBC, pg with `binary: true`) gets them */
const BINARY_TYPES: ColumnType[] = OIDS.map((dataTypeID) => ({ dataTypeID, format: "binary" }));
const PG_EPOCH_MS = Date.UTC(2000, 0, 1);

/**
 * The rows in text format (about `TARGET_BYTES`), or the first `count` of the same rows in binary
 * format. Generated apart, so that each set lies in memory on its own, as a result's rows do.
 */
function generateRows(format: "text" | "binary", count = Infinity): { rows: Buffer[]; bytes: number } {
  const rnd = seededRandom(42); // every run measures the same rows
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const rows: Buffer[] = [];
  let bytes = 0;
  for (let id = 1; format === "text" ? bytes < TARGET_BYTES : id <= count; id++) {
    const first = pick(FIRST), last = pick(LAST);
    const words = Array.from({ length: 8 + Math.floor(rnd() * 30) }, () => pick(WORDS));
    if (rnd() < 0.03) words.splice(Math.floor(rnd() * words.length), 0, pick(SECRETS));
    const createdMs = 1_700_000_000_000 + id * 61_000;
    const name = `${first} ${last}`;
    const email = `${first.toLowerCase()}.${last.toLowerCase()}${id % 100}@example.com`;
    const amount = (rnd() * 10_000).toFixed(2);
    const status = rnd() < 0.9 ? "active" : null;
    const row = format === "text"
      ? encodeDataRow([
        String(1_000_000 + id),
        name,
        new Date(createdMs).toISOString().replace("T", " ").replace("Z", "+00"),
        email,
        words.join(" "),
        amount,
        status,
      ])
      : encodeDataRow([
        int8Binary(BigInt(1_000_000 + id)), name, int8Binary(BigInt(createdMs - PG_EPOCH_MS) * 1000n), email, words.join(" "), numericBinary(amount), status,
      ]);
    rows.push(row);
    bytes += row.length;
  }
  return { rows, bytes };
}

function int8Binary(value: bigint): Buffer {
  const out = Buffer.allocUnsafe(8);
  out.writeBigInt64BE(value);
  return out;
}

/** numeric_send of a non-negative decimal such as `1234.56`: base-10000 digits around the point, zero groups trimmed */
function numericBinary(text: string): Buffer {
  const [whole, fraction = ""] = text.split(".") as [string, string?];
  const groups = (s: string): number[] => Array.from({ length: s.length / 4 }, (_, i) => Number(s.slice(4 * i, 4 * i + 4)));
  const digits = [...groups(whole.padStart(4 * Math.ceil(whole.length / 4), "0")), ...groups(fraction.padEnd(4 * Math.ceil(fraction.length / 4), "0"))];
  let weight = Math.ceil(whole.length / 4) - 1;
  while (digits.length > 0 && digits[0] === 0) {
    digits.shift();
    weight--;
  }
  while (digits.length > 0 && digits[digits.length - 1] === 0) digits.pop();
  const out = Buffer.alloc(8 + 2 * digits.length);
  out.writeInt16BE(digits.length, 0);
  out.writeInt16BE(digits.length === 0 ? 0 : weight, 2);
  out.writeUInt16BE(fraction.length, 6);
  digits.forEach((d, i) => out.writeUInt16BE(d, 8 + 2 * i));
  return out;
}

/** The rows in runs of whole messages of about `CHUNK_BYTES`, as upstream chunks carry them. */
function chunked(rows: readonly Buffer[]): Buffer[] {
  const runs: Buffer[] = [];
  let run: Buffer[] = [];
  let size = 0;
  for (const row of rows) {
    run.push(row);
    size += row.length;
    if (size >= CHUNK_BYTES) {
      runs.push(Buffer.concat(run));
      run = [];
      size = 0;
    }
  }
  if (run.length > 0) runs.push(Buffer.concat(run));
  return runs;
}

/**
 * Median MB/s of `RUNS` passes of `pass` over `bytes`, in CPU time of this process: the
 * benchmark machine is shared, and wall time would measure the neighbours. One untimed pass
 * comes first: CPU time counts the compiler threads, and a cold first pass measured 25-45%
 * below the next ones. `prepare` runs before each pass, untimed.
 */
function throughput(bytes: number, pass: () => void, prepare?: () => void): number {
  prepare?.();
  pass();
  const rates: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    prepare?.();
    const t0 = process.cpuUsage();
    pass();
    const used = process.cpuUsage(t0);
    rates.push(bytes / 1e6 / ((used.user + used.system) / 1e6));
  }
  return rates.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
}

/** Baseline: every value decoded to a string and every detector's regexes run over it. */
function regexesOverStrings(rows: readonly Buffer[]): number {
  const detectors = DETECTORS.map((n) => DETECTOR_BY_NAME[n]);
  let found = 0;
  const sink = (): void => { found++; };
  for (const msg of rows) {
    const fields = msg.readUInt16BE(5);
    let pos = 7;
    for (let i = 0; i < fields; i++) {
      const len = msg.readInt32BE(pos);
      pos += 4;
      if (len < 0) continue;
      const text = msg.toString("utf8", pos, pos + len);
      for (const d of detectors) d.find(text, sink);
      pos += len;
    }
  }
  return found;
}

/** The speed of this machine right now: a plain loop summing every byte of every row. */
function byteSum(rows: readonly Buffer[]): number {
  let sum = 0;
  for (const msg of rows) for (let i = 0; i < msg.length; i++) sum += msg[i]!;
  return sum;
}

function maskAll(rows: readonly Buffer[], plan: RowMaskPlan): number {
  let changed = 0;
  for (const msg of rows) if (maskDataRow(msg, plan) !== msg) changed++;
  return changed;
}

/** `maskDataRows` over each run, as the proxy does per chunk (it writes same-length masks into the run). */
function maskRuns(runs: readonly Buffer[], plan: RowMaskPlan): void {
  for (const run of runs) maskDataRows(run, plan);
}

function plan(columns: (MaskStrategy | undefined)[], detectors: DetectorName[], types?: ColumnType[]): RowMaskPlan {
  const p = buildRowMaskPlan(columns, new Map(detectors.map((d) => [d, { kind: "redact" } as MaskStrategy])), {
    hashKey: KEY, columnTypes: types,
  });
  if (p === undefined) throw new Error("benchmark plan is empty");
  return p;
}

export async function benchMasking(): Promise<string[]> {
  const { rows, bytes } = generateRows("text");
  const none = new Array<MaskStrategy | undefined>(TYPES.length).fill(undefined);
  const all = [...DETECTORS];
  const withoutEmail = all.filter((d) => d !== "email");

  const machine = throughput(bytes, () => byteSum(rows));
  const baseline = throughput(bytes, () => regexesOverStrings(rows));
  const typed = throughput(bytes, () => maskAll(rows, plan(none, all, TYPES)));
  const untyped = throughput(bytes, () => maskAll(rows, plan(none, all)));
  const noEmail = throughput(bytes, () => maskAll(rows, plan(none, withoutEmail, TYPES)));
  const oneColumn = [...none];
  oneColumn[3] = { kind: "partial", keep: 4 };
  const rewrite = throughput(bytes, () => maskAll(rows, plan(oneColumn, [], TYPES)));
  const changed = maskAll(rows, plan(none, all, TYPES));
  // runs are masked in place: each pass starts from pristine copies
  const pristine = chunked(rows);
  const runs = pristine.map((run) => Buffer.from(run));
  const restore = (): void => pristine.forEach((run, i) => run.copy(runs[i]!));
  const runsTyped = throughput(bytes, () => maskRuns(runs, plan(none, all, TYPES)), restore);
  const runsRewrite = throughput(bytes, () => maskRuns(runs, plan(oneColumn, [], TYPES)), restore);
  const { rows: binaryRows, bytes: binaryBytes } = generateRows("binary", rows.length);
  const binaryTyped = throughput(binaryBytes, () => maskAll(binaryRows, plan(none, all, BINARY_TYPES)));
  const binaryChanged = maskAll(binaryRows, plan(none, all, BINARY_TYPES));

  const mb = (x: number): string => `${x.toFixed(0)} MB/s`;
  const ratio = (x: number): string => `${(x / baseline).toFixed(1)}x`;
  return [
    `masking (MB/s of CPU time): ${rows.length} DataRows, ${(bytes / 1e6).toFixed(1)} MB, 7 columns (id, name, timestamp, email, notes, amount, status)`,
    `  machine reference: a JS loop summing every byte runs at ${mb(machine)}`,
    `  (a) JS regexes over every value as strings, all 9 detectors: ${mb(baseline)} (baseline)`,
    `  (b) prefiltered detectors over raw DataRows, all 9, column types known: ${mb(typed)} — ${ratio(typed)} (${changed} rows rewritten: every email)`,
    `      same, column types unknown (every column scanned): ${mb(untyped)} — ${ratio(untyped)}`,
    `      same, 8 detectors without email (few rows change): ${mb(noEmail)} — ${ratio(noEmail)}`,
    `  full-row rewrite, one column mask partial(4), no detectors: ${mb(rewrite)} — ${ratio(rewrite)}`,
    `  as the proxy masks (maskDataRows, ${runs.length} runs of ${CHUNK_BYTES / 1024} KiB): all 9 detectors, types known ${mb(runsTyped)}` +
      ` — ${ratio(runsTyped)}; partial(4), no detectors ${mb(runsRewrite)} — ${ratio(runsRewrite)}`,
    `  binary format (id, created_at as int8/timestamptz, amount as numeric decoded to text), all 9, row by row: ${mb(binaryTyped)}` +
      ` (${(binaryBytes / 1e6).toFixed(1)} MB, ${binaryChanged} rows rewritten)`,
  ];
}
