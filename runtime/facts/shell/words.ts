// Shell words as the shell would see them after quote removal, when that is knowable
// without running anything.

import type { Node } from "./tree.js";

export interface ShellWord {
  /** the word after quote removal; null when it holds an expansion (its value is unknown) */
  value: string | null;
  /** it would undergo pathname or brace expansion (unquoted `*`, `?`, `[`, `{a,b}`, `{1..3}`) */
  pattern: boolean;
}

const UNKNOWN: ShellWord = { value: null, pattern: false };

/** A word's value, and the same text with every quoted or escaped character replaced by NUL. */
interface Piece { value: string; unquoted: string }

export function shellWord(node: Node): ShellWord {
  const piece = literalPiece(node);
  if (!piece) return UNKNOWN;
  return { value: piece.value, pattern: isPattern(piece.unquoted) };
}

function isPattern(unquoted: string): boolean {
  return /[*?[]/.test(unquoted) || /\{[^{}]*(,|\.\.)[^{}]*\}/.test(unquoted) || /[@+!]\(/.test(unquoted);
}

function literalPiece(node: Node): Piece | undefined {
  switch (node.type) {
    case "word":
    case "number":
      return unquotedText(node.text);
    case "raw_string":
      return quoted(node.text.slice(1, -1));
    case "string":
      return doubleQuoted(node);
    case "translated_string": {
      const inner = node.namedChildren[0];
      return inner && inner.type === "string" ? doubleQuoted(inner) : undefined;
    }
    case "ansi_c_string":
      return quoted(decodeAnsiC(node.text.slice(2, -1)));
    case "concatenation": {
      let value = "";
      let unquoted = "";
      for (const part of node.children) {
        const p = literalPiece(part);
        if (!p) return undefined;
        value += p.value;
        unquoted += p.unquoted;
      }
      return { value, unquoted };
    }
    default:
      return undefined;
  }
}

function quoted(value: string): Piece {
  return { value, unquoted: "\0".repeat(value.length) };
}

/** Unquoted word: a backslash quotes the next character; backslash-newline disappears. */
function unquotedText(text: string): Piece {
  let value = "";
  let unquoted = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\\" && i + 1 < text.length) {
      const next = text[++i]!;
      if (next === "\n") continue;
      value += next;
      unquoted += "\0";
    } else {
      value += c;
      unquoted += c;
    }
  }
  return { value, unquoted };
}

/** "…" with no expansion inside: backslash escapes only `$`, `` ` ``, `"`, `\` and newline. */
function doubleQuoted(node: Node): Piece | undefined {
  const literalOnly = node.children.every((c) => c.type === '"' || c.type === "string_content");
  if (!literalOnly) return undefined;
  const inner = node.text.slice(1, -1);
  let value = "";
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i]!;
    const next = inner[i + 1];
    if (c === "\\" && next !== undefined && "$`\"\\\n".includes(next)) {
      i++;
      if (next !== "\n") value += next;
    } else {
      value += c;
    }
  }
  return quoted(value);
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: "\x07", b: "\b", e: "\x1b", E: "\x1b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v",
  "\\": "\\", "'": "'", '"': '"', "?": "?",
};

/** Bash's `$'…'` escapes. A NUL ends the string, as in bash. */
function decodeAnsiC(body: string): string {
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== "\\" || i + 1 >= body.length) {
      out += c;
      continue;
    }
    const e = body[++i]!;
    let m: RegExpMatchArray | null;
    const rest = body.slice(i + 1);
    if (e in SIMPLE_ESCAPES) {
      out += SIMPLE_ESCAPES[e];
    } else if (/[0-7]/.test(e)) {
      m = (e + rest).match(/^[0-7]{1,3}/);
      out += String.fromCharCode(parseInt(m![0], 8) & 0xff);
      i += m![0].length - 1;
    } else if (e === "x" && (m = rest.match(/^[0-9a-fA-F]{1,2}/))) {
      out += String.fromCharCode(parseInt(m[0], 16));
      i += m[0].length;
    } else if ((e === "u" || e === "U") && (m = rest.match(e === "u" ? /^[0-9a-fA-F]{1,4}/ : /^[0-9a-fA-F]{1,8}/))) {
      out += String.fromCodePoint(Math.min(parseInt(m[0], 16), 0x10ffff));
      i += m[0].length;
    } else if (e === "c" && rest.length > 0) {
      out += String.fromCharCode(rest.charCodeAt(0) & 0x1f);
      i += 1;
    } else {
      out += "\\" + e;
    }
  }
  const nul = out.indexOf("\0");
  return nul === -1 ? out : out.slice(0, nul);
}
