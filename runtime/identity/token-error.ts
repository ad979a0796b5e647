// Why a token was refused, in words a client can be shown. Messages never contain the token;
// values taken from an unverified token are quoted and cut short.

export type TokenErrorCode =
  | "malformed"
  | "unknown_issuer"
  | "algorithm_not_allowed"
  | "unknown_key"
  | "bad_signature"
  | "expired"
  | "lifetime_too_long"
  | "not_yet_valid"
  | "wrong_audience"
  | "invalid_claims"
  | "keys_unavailable";

export class TokenError extends Error {
  constructor(
    readonly code: TokenErrorCode,
    message: string,
    /** for the operator's log only (e.g. why the key set could not be fetched) */
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "TokenError";
  }
}

/** An attacker-chosen string made safe to put in a message or a log line. */
export function quoteUntrusted(value: unknown, max = 80): string {
  const text = typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}
