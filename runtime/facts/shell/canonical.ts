// First step: mvdan/sh (through sh-syntax) parses the text as bash and prints it back in its
// canonical form. It is the faithful parser, and its errors carry a message and a position.
// Its tree, as the wasm build exports it, only locates top-level statements, so the typed tree
// comes from tree-sitter (tree.ts), run on the canonical text: line continuations joined,
// comments dropped, here-documents after their command. That leaves tree-sitter no lexical
// corner (`r\<newline>m`) where it could read a different command than bash would.

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

// sh-syntax's default entry points compile its 750 KB module on every call; compiling it once
// and instantiating per call (the Go runtime inside is single-use) saves about a third.
const printBash = getProcessor(async (imports: object) => {
  compiled ??= readFile(require.resolve("sh-syntax/main.wasm")).then((bytes) => WebAssembly.compile(bytes));
  return WebAssembly.instantiate(await compiled, imports);
});

export type Canonical = { ok: true; text: string } | { ok: false; error: string };

export async function canonicalBash(text: string): Promise<Canonical> {
  try {
    return { ok: true, text: await printBash(text, { print: true, keepComments: false }) };
  } catch (err) {
    if (err instanceof ParseError) {
      const at = err.Pos ? `line ${err.Pos.Line}, column ${err.Pos.Col}: ` : "";
      return { ok: false, error: `${at}${err.Text}` };
    }
    return { ok: false, error: `shell parser failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}
