// Looks up an attribute reference in the schema and checks it may be used where it is.
// An attribute used where it is not available is reported but still returned, so the rest of
// the expression is checked too (the program fails on the error either way).

import type { RefExpr } from "../dsl/ast.js";
import {
  ATTRIBUTES,
  ATTRIBUTE_BY_NAME,
  CLAIMS_PREFIX,
  type AttrSpec,
  type ConnectionKind,
} from "../runtime/schema/attributes.js";
import { Code } from "./codes.js";
import { didYouMean, Reporter } from "./report.js";
import { refName } from "./values.js";

/** Where a condition is evaluated, which bounds the attributes it may read. */
export type CondScope =
  /** a group's `when`: only the token (claims, identity.issuer/subject) */
  | { kind: "group" }
  /** a mask's `when`/`unless`: session-stage attributes */
  | { kind: "mask"; reach: Reach }
  /** a rule's `when`/`unless`: anything the policy's connections provide */
  | { kind: "rule"; reach: Reach };

/** The connection kinds a policy can reach, with one example connection per kind for messages. */
export interface Reach {
  policy: string;
  kinds: ReadonlyMap<ConnectionKind, string>;
}

const CLAIM_SPEC = (name: string): AttrSpec => ({ name, type: { kind: "any" }, stage: "session", doc: "token claim" });

export function resolveAttribute(ref: RefExpr, scope: CondScope, rep: Reporter): AttrSpec | undefined {
  const name = refName(ref);
  if (name.startsWith(CLAIMS_PREFIX) && ref.segments.length >= 2) return CLAIM_SPEC(name);
  const spec = ATTRIBUTE_BY_NAME.get(name);
  if (!spec) {
    const known = [...ATTRIBUTES.map((a) => a.name), "claims.NAME"];
    rep.error(Code.UnknownAttribute, ref.span, `unknown attribute \`${name}\``, {
      help: didYouMean(name, known) ?? "attributes are identity.*, claims.*, connection.*, time.*, sql.*, ssh.*, k8s.*",
    });
    return undefined;
  }
  if (scope.kind === "group" && !(name === "identity.issuer" || name === "identity.subject")) {
    rep.error(Code.AttributeNotAvailable, ref.span, `\`${name}\` is not known when group membership is decided; a group's \`when\` may read only claims.*, identity.issuer and identity.subject`);
    return spec;
  }
  if (scope.kind === "mask" && spec.stage !== "session") {
    rep.error(Code.AttributeNotAvailable, ref.span, `\`${name}\` is per statement, but masks are fixed for the whole session; a mask's condition may read identity.*, claims.* and connection.*`);
    return spec;
  }
  if (scope.kind === "rule" && spec.requires) {
    for (const [kind, example] of scope.reach.kinds) {
      if (kind !== spec.requires) {
        rep.error(
          Code.AttributeNotAvailable,
          ref.span,
          `\`${name}\` exists only on ${spec.requires} connections, but policy \`${scope.reach.policy}\` also reaches ${kind} connection \`${example}\``,
          { help: `narrow the policy's \`connections\` to ${spec.requires} connections, or move this rule to a policy of its own` },
        );
        return spec;
      }
    }
  }
  return spec;
}
