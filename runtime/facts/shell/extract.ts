// Shell facts for SSH sessions (DESIGN.md §2, ssh.*). Pure: the only thing loaded is the
// parsers' wasm, once.

import type { SshKind } from "../../schema/attributes.js";
import type { SshFacts } from "../types.js";
import { canonicalBash } from "./canonical.js";
import { parseBashTree } from "./tree.js";
import { FactCollector, type ShellBody } from "./walk.js";

/** Longest exec command accepted; longer ones are refused rather than parsed. */
export const MAX_COMMAND_LENGTH = 64 * 1024;
/** `sh -c` inside `sh -c` … deeper than this is not followed: the command counts as dynamic. */
export const MAX_SHELL_DEPTH = 4;
/** Nested shell bodies parsed per command, at most; beyond that the command counts as dynamic. */
export const MAX_SHELL_BODIES = 32;

/** Facts for an exec request. Never throws: a command that cannot be analysed carries `error`. */
export async function extractShellFacts(command: string): Promise<SshFacts> {
  try {
    return await analyse(command);
  } catch (err) {
    return failed(command, `shell analysis failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Facts for a channel that carries no command: shell, sftp, forwards, x11. */
export function sessionFacts(kind: SshKind): SshFacts {
  if (kind === "exec") return { ...failed("", "an exec request needs its command: use extractShellFacts"), kind };
  return { kind, programs: [], args: [], dynamic: false };
}

async function analyse(command: string): Promise<SshFacts> {
  if (command.length > MAX_COMMAND_LENGTH) {
    return failed(command, `command is ${command.length} characters long; at most ${MAX_COMMAND_LENGTH} are accepted`);
  }
  const nul = command.indexOf("\0");
  if (nul !== -1) return failed(command, `command contains a NUL character at offset ${nul}`);

  const facts = new FactCollector();
  const queue: ShellBody[] = [{ text: command, depth: 0 }];
  let parsed = 0;
  for (let body = queue.shift(); body; body = queue.shift()) {
    if (body.depth > MAX_SHELL_DEPTH || parsed >= MAX_SHELL_BODIES) {
      facts.dynamic = true;
      continue;
    }
    parsed++;
    const where = body.depth === 0 ? "" : `in shell code passed to a nested shell (${JSON.stringify(clip(body.text))}): `;
    const canonical = await canonicalBash(body.text);
    if (!canonical.ok) return failed(command, where + canonical.error);
    const tree = await parseBashTree(canonical.text);
    if (!tree.ok) return failed(command, `${where}${tree.error} in the canonical form ${JSON.stringify(clip(canonical.text))}`);
    try {
      facts.walk(tree.root, body.depth);
    } finally {
      tree.tree.delete();
    }
    queue.push(...facts.takeBodies());
  }
  return {
    kind: "exec",
    command,
    programs: [...facts.programs].sort(),
    args: [...facts.args].sort(),
    dynamic: facts.dynamic,
  };
}

function failed(command: string, error: string): SshFacts {
  return { kind: "exec", command, programs: [], args: [], dynamic: true, error };
}

const clip = (text: string): string => (text.length > 60 ? `${text.slice(0, 57)}...` : text);
