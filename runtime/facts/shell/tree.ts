// The typed tree: tree-sitter-bash, run by web-tree-sitter from the wasm both packages ship,
// over mvdan/sh's canonical print of the command (canonical.ts). tree-sitter recovers from
// errors instead of failing, so any ERROR or MISSING node makes the text rejected.

import { createRequire } from "node:module";
import { Language, Parser, type Node, type Tree } from "web-tree-sitter";

export type { Node };

const require = createRequire(import.meta.url);
let parserReady: Promise<Parser> | undefined;

function bashParser(): Promise<Parser> {
  parserReady ??= (async () => {
    await Parser.init();
    const bash = await Language.load(require.resolve("tree-sitter-bash/tree-sitter-bash.wasm"));
    const parser = new Parser();
    parser.setLanguage(bash);
    return parser;
  })();
  return parserReady;
}

export type BashTree = { ok: true; root: Node; tree: Tree } | { ok: false; error: string };

export async function parseBashTree(text: string): Promise<BashTree> {
  const parser = await bashParser();
  const tree = parser.parse(text);
  if (!tree) return { ok: false, error: "shell parser returned no tree" };
  const root = tree.rootNode;
  if (!root.hasError) return { ok: true, root, tree };
  const bad = firstError(root);
  tree.delete();
  if (!bad) return { ok: false, error: "syntax error" };
  const where = `line ${bad.startPosition.row + 1}, column ${bad.startPosition.column + 1}`;
  const near = JSON.stringify(text.slice(Math.max(0, bad.startIndex - 10), bad.startIndex + 20));
  const what = bad.isMissing && bad.type !== "ERROR" ? `missing ${JSON.stringify(bad.type)} near ${near}` : `cannot parse near ${near}`;
  return { ok: false, error: `${where}: ${what}` };
}

function firstError(node: Node): Node | undefined {
  if (node.isError || node.isMissing) return node;
  for (const child of node.children) {
    if (child.hasError || child.isMissing) {
      const found = firstError(child);
      if (found) return found;
    }
  }
  return undefined;
}
