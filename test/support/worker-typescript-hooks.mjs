// Module hooks for worker threads under the tests (worker-typescript.mjs): a `./x.js` import
// with no such file loads the source `./x.ts` beside it, transpiled by TypeScript.

import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";

const ts = createRequire(import.meta.url)("typescript");

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (err) {
    if (err?.code !== "ERR_MODULE_NOT_FOUND" || !specifier.endsWith(".js")) throw err;
    return next(`${specifier.slice(0, -3)}.ts`, context);
  }
}

export async function load(url, context, next) {
  if (!url.endsWith(".ts")) return next(url, context);
  const source = await readFile(new URL(url), "utf8");
  const { outputText } = ts.transpileModule(source, {
    fileName: url,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, inlineSourceMap: true },
  });
  return { format: "module", source: outputText, shortCircuit: true };
}
