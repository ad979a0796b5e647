// Checks a `test` block: the subject token's claims, the connection, and each expectation.

import type { Attribute, Expr, RefExpr, TestDecl } from "../dsl/ast.js";
import { Code } from "./codes.js";
import type { CheckedExpectation, CheckedTest } from "./program.js";
import type { Names } from "./policies.js";
import { didYouMean, Reporter } from "./report.js";
import { attributesOf, describe, readRef, readStringList } from "./values.js";

export function checkTest(d: TestDecl, names: Names, rep: Reporter): CheckedTest | undefined {
  const attrs = attributesOf(
    d.body.filter((m): m is Attribute => m.kind === "attribute"),
    { subject: "required", connection: "optional", description: "optional" },
    { what: `test \`${d.name.name}\``, span: d.name.span },
    rep,
  );
  const subjectAttr = attrs.get("subject");
  const claims = subjectAttr && readClaims(subjectAttr.value, rep);
  const connAttr = attrs.get("connection");
  const connection = connAttr ? resolveConnection(connAttr.value as RefExpr, names, rep) : undefined;
  if (connAttr && !connection) return undefined;

  const expectations: CheckedExpectation[] = [];
  let ok = claims !== undefined;
  for (const m of d.body) {
    if (m.kind !== "expect") continue;
    const on = m.on ? resolveConnection(m.on, names, rep) : connection;
    if (!on) {
      ok = false;
      if (!m.on) rep.error(Code.MissingKey, m.span, "this expectation has no connection: add `on connection.NAME` or set the test's `connection`");
      continue;
    }
    if (m.expect === "decision") {
      const kind = names.connections.get(on)!.kind;
      const want = m.protocol === "sql" ? "postgres" : "ssh";
      if (kind !== want) {
        ok = false;
        rep.error(Code.AttributeNotAvailable, m.input.span, `a ${m.protocol} expectation needs a ${want} connection, but \`${on}\` is ${kind}`);
        continue;
      }
      expectations.push({ kind: "decision", effect: m.effect, protocol: m.protocol, input: m.input.value, connection: on, span: m.span });
    } else if (m.expect === "masked") {
      const cols = readStringList(m.columns, "`masked columns`", rep);
      if (!cols) ok = false;
      else expectations.push({ kind: "masked", columns: cols.map((c) => c.toLowerCase()), connection: on, span: m.span });
    } else {
      expectations.push({ kind: "refused", connection: on, span: m.span });
    }
  }
  if (!ok || !claims) return undefined;
  return { name: d.name.name, claims, expectations, span: d.name.span };
}

function resolveConnection(e: Expr, names: Names, rep: Reporter): string | undefined {
  const ref = readRef(e, ["connection"], "a test's connection", rep);
  if (!ref) return undefined;
  if (names.connections.has(ref.name)) return ref.name;
  const help = didYouMean(ref.name, names.connections.keys());
  rep.error(Code.UnknownReference, ref.span, `unknown connection \`${ref.name}\``, help ? { help } : {});
  return undefined;
}

function readClaims(e: Expr, rep: Reporter): Record<string, unknown> | undefined {
  if (e.kind !== "object") {
    rep.error(Code.ValueType, e.span, `\`subject\` must be an object of token claims like { iss = "…", sub = "…" }, found ${describe(e)}`);
    return undefined;
  }
  const claims: Record<string, unknown> = {};
  let ok = true;
  for (const entry of e.entries) {
    const v = claimValue(entry.value, rep);
    if (v === undefined) ok = false;
    else claims[entry.key.name] = v;
  }
  for (const required of ["iss", "sub"]) {
    if (!(required in claims)) {
      ok = false;
      rep.error(Code.MissingKey, e.span, `the subject token needs \`${required}\``);
    }
  }
  return ok ? claims : undefined;
}

function claimValue(e: Expr, rep: Reporter): unknown {
  switch (e.kind) {
    case "string":
    case "number":
    case "bool":
      return e.value;
    case "list": {
      const items = e.items.map((i) => claimValue(i, rep));
      return items.includes(undefined) ? undefined : items;
    }
    case "object": {
      const o: Record<string, unknown> = {};
      for (const entry of e.entries) {
        const v = claimValue(entry.value, rep);
        if (v === undefined) return undefined;
        o[entry.key.name] = v;
      }
      return o;
    }
    default:
      rep.error(Code.ValueType, e.span, `a claim value must be a string, number, boolean, list or object, found ${describe(e)}`);
      return undefined;
  }
}
