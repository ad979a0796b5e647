// Configuration errors: each names the key it is about, in the file's own spelling
// (`connections.orders-db.target`, `issuers[0].audience`). Values are never echoed, so a
// secret that landed in the wrong key does not end up in a log.

export interface ConfigIssue {
  /** dotted key path; empty for the document itself */
  path: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly issues: ConfigIssue[],
  ) {
    super(`${file}: invalid configuration\n${issues.map((i) => `  ${formatIssue(i)}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export function formatIssue(issue: ConfigIssue): string {
  return `${issue.path === "" ? "(top level)" : issue.path}: ${issue.message}`;
}

export type KeySegment = string | number;

export function keyPath(segments: readonly KeySegment[]): string {
  let out = "";
  for (const s of segments) out += typeof s === "number" ? `[${s}]` : out === "" ? s : `.${s}`;
  return out;
}
