// Connections and groups: the names every policy and test refers to.

import type { ConnectionDecl, GroupDecl } from "../dsl/ast.js";
import { CONNECTION_KINDS, type ConnectionKind } from "../runtime/schema/attributes.js";
import { checkCondition } from "./conditions.js";
import type { CheckedConnection, CheckedGroup } from "./program.js";
import { Reporter } from "./report.js";
import { attributesOf, readString, readStringList, readWord } from "./values.js";

export function checkConnection(d: ConnectionDecl, rep: Reporter): CheckedConnection | undefined {
  const where = { what: `connection \`${d.name.name}\``, span: d.name.span };
  const attrs = attributesOf(d.attributes, { kind: "required", tags: "optional", description: "optional" }, where, rep);
  const kindAttr = attrs.get("kind");
  const kind = kindAttr && (readWord(kindAttr.value, CONNECTION_KINDS, "`kind`", rep) as ConnectionKind | undefined);
  const tagsAttr = attrs.get("tags");
  const tags = tagsAttr ? readStringList(tagsAttr.value, "`tags`", rep) : [];
  const description = attrs.get("description");
  if (description) readString(description.value, "`description`", rep);
  if (!kind || !tags) return undefined;
  return { name: d.name.name, kind, tags: [...new Set(tags)].sort(), span: d.name.span };
}

export function checkGroup(d: GroupDecl, rep: Reporter): CheckedGroup | undefined {
  const where = { what: `group \`${d.name.name}\``, span: d.name.span };
  const attrs = attributesOf(d.attributes, { issuer: "required", when: "optional", description: "optional" }, where, rep);
  const issuerAttr = attrs.get("issuer");
  const issuer = issuerAttr && readString(issuerAttr.value, "`issuer`", rep);
  const whenAttr = attrs.get("when");
  const when = whenAttr ? checkCondition(whenAttr.value, { kind: "group" }, rep) : { op: "true" as const };
  const description = attrs.get("description");
  if (description) readString(description.value, "`description`", rep);
  if (issuer === undefined || !when) return undefined;
  return { name: d.name.name, issuer, when, span: d.name.span };
}
