// First gate: mvdan/sh (through sh-syntax) must accept the text as bash. It is the more
// faithful parser, and its errors carry a message and a position; its tree, as exported by
// the wasm build, only locates top-level statements, so the typed tree comes from tree.ts.

import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { getProcessor, ParseError } from "sh-syntax";

// The project's lib (ES2023) and @types/node 20 carry no WebAssembly types; these are the two
// calls this module makes.
interface WasmModule { readonly kind: "WebAssembly.Module" }
declare const WebAssembly: {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports: object): Promise<object>;
};

const require = createRequire(import.meta.url);
let compiled: Promise<WasmModule> | undefined;

// sh-syntax's default `parse` compiles its 750 KB module on every call (~75 ms); compiling once
// and instantiating per call (the Go runtime inside is single-use) costs a few milliseconds.
const parseBash = getProcessor(async (imports: object) => {
  compiled ??= readFile(require.resolve("sh-syntax/main.wasm")).then((bytes) => WebAssembly.compile(bytes));
  return WebAssembly.instantiate(await compiled, imports);
});

export type StatementStarts = { ok: true; starts: number[] } | { ok: false; error: string };

/** Where each top-level statement starts (UTF-8 byte offsets), or the parser's complaint. */
export async function bashStatementStarts(text: string): Promise<StatementStarts> {
  try {
    const file = await parseBash(text, { keepComments: false });
    return { ok: true, starts: file.Stmts.map((s) => s.Pos.Offset) };
  } catch (err) {
    if (err instanceof ParseError) {
      const at = err.Pos ? `line ${err.Pos.Line}, column ${err.Pos.Col}: ` : "";
      return { ok: false, error: `${at}${err.Text}` };
    }
    return { ok: false, error: `shell parser failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}
