// What the engine needs from the fact extractors (runtime/facts/): the real ones are wired in
// by loadEngine (index.ts); tools that already hold facts call the `*Facts` entry points.

import type { SqlFacts, SshFacts } from "../facts/types.js";
import type { SshKind } from "../schema/attributes.js";

export interface FactExtractors {
  sql(text: string): SqlFacts;
  shell(command: string): Promise<SshFacts>;
  /** facts of a request that carries no command (shell, sftp, forwarding) */
  sshSession(kind: Exclude<SshKind, "exec">): SshFacts;
}
