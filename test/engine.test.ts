// The decision engine on hand-written bundles: applicability, deny > review > allow, default
// deny, multi-statement queries, missing claims, like/matches, masks, limits, memoization, and
// broken bundles rejected with the JSON path of the problem.

import { describe, expect, it } from "vitest";
import { bundleDigest } from "../runtime/bundle/canonical.js";
import type { Bundle, BundleMask, BundlePolicy, BundleRule, Cond, RuleIndex } from "../runtime/bundle/format.js";
import { validateBundle } from "../runtime/bundle/validate.js";
import { globMatcher } from "../runtime/engine/cond.js";
import { loadEngine, type Engine, type EngineSession } from "../runtime/engine/index.js";
import type { Identity, SqlStatementFacts } from "../runtime/facts/types.js";
import { DISCRIMINANT, type ConnectionKind } from "../runtime/schema/attributes.js";
import { seededRandom } from "../runtime/seeded-random.js";

const GH = "https://token.actions.githubusercontent.com";
const IDP = "https://login.acme.dev";

const ci: Identity = {
  issuer: GH,
  subject: "repo:acme/api:ref:refs/heads/main",
  claims: { iss: GH, sub: "repo:acme/api:ref:refs/heads/main", repository: "acme/api", ref: "refs/heads/main" },
};
const dba: Identity = { issuer: IDP, subject: "alice", claims: { iss: IDP, sub: "alice", groups: ["dba", "eng"], team: "audit-eu" } };
const stranger: Identity = { issuer: GH, subject: "repo:evil/x", claims: { iss: GH, sub: "repo:evil/x", repository: "evil/x" } };

// ---- bundle builders: data, as the compiler would write it ----

const inCmd = (kind: string, values: string[]): Cond => ({ op: "in", attr: DISCRIMINANT[kind as ConnectionKind], values });

function rule(policy: string, n: number, effect: BundleRule["effect"], cond: Cond, extra: Partial<BundleRule> = {}): BundleRule {
  return { id: `${policy}/${effect}#${n}`, policy, effect, cond, source: `p.hoop:${n}:3`, ...extra };
}

/** Rules pinned by a leading `in` / `==` on the discriminant go to byValue, the rest to any. */
function indexFor(rules: BundleRule[], kind: ConnectionKind): RuleIndex {
  const attr = DISCRIMINANT[kind];
  const byValue: Record<string, number[]> = {};
  const any: number[] = [];
  rules.forEach((r, i) => {
    const head = r.cond.op === "and" ? r.cond.args[0]! : r.cond;
    const values = head.op === "in" && head.attr === attr ? head.values : head.op === "cmp" && head.cmp === "==" && head.attr === attr ? [head.value] : undefined;
    if (values === undefined) any.push(i);
    else for (const v of values) (byValue[String(v)] ??= []).push(i);
  });
  return { attr, byValue, any };
}

function policy(name: string, subjects: string[], connections: string[], kind: ConnectionKind, rules: BundleRule[], more: Partial<BundlePolicy> = {}): BundlePolicy {
  return { name, subjects, connections, rules, index: { [kind]: indexFor(rules, kind) }, masks: [], limits: [], source: `${name}.hoop:1:1`, ...more };
}

function mask(policyName: string, n: number, columns: string[], strategy: BundleMask["strategy"], cond: Cond = { op: "true" }, detectors: BundleMask["detectors"] = []): BundleMask {
  return { id: `${policyName}/mask#${n}`, policy: policyName, columns, detectors, strategy, cond, source: `m.hoop:${n}:3` };
}

function seal(policies: BundlePolicy[]): Bundle {
  const connections: Bundle["connections"] = {
    "orders-db": { kind: "postgres", tags: ["prod", "pii"] },
    "staging-db": { kind: "postgres", tags: ["staging"] },
    bastion: { kind: "ssh", tags: ["prod"] },
    "k8s-prod": { kind: "kubernetes", tags: ["prod"] },
  };
  const byConnection: Bundle["byConnection"] = {};
  for (const c of Object.keys(connections)) {
    byConnection[c] = policies.flatMap((p, i) => (p.connections.includes(c) ? [i] : []));
  }
  const body = {
    format: "hoopgate.bundle/v1" as const,
    sources: [{ path: "p.hoop", sha256: "0".repeat(64) }],
    connections,
    groups: {
      "ci-deploy": {
        issuer: GH,
        when: {
          op: "and",
          args: [
            { op: "in", attr: "claims.repository", values: ["acme/api", "acme/web"] },
            { op: "cmp", cmp: "==", attr: "claims.ref", value: "refs/heads/main" },
          ],
        },
      },
      dba: { issuer: IDP, when: { op: "contains", attr: "claims.groups", value: "dba" } },
      auditors: { issuer: IDP, when: { op: "like", attr: "claims.team", pattern: "audit-*" } },
      "everyone-gh": { issuer: GH, when: { op: "true" } },
    } satisfies Bundle["groups"],
    policies,
    byConnection,
  };
  return { ...body, sha256: bundleDigest(body) };
}

const ciRules = [
  rule("ci-on-prod", 1, "deny", inCmd("postgres", ["drop", "truncate", "alter", "grant", "revoke"]), { reason: "schema changes go through migrations" }),
  rule("ci-on-prod", 2, "deny", { op: "has_any", attr: "sql.functions", values: ["pg_read_file", "pg_ls_dir", "lo_export"] }),
  rule("ci-on-prod", 1, "review", { op: "and", args: [inCmd("postgres", ["update", "delete"]), { op: "not", arg: { op: "cmp", cmp: "==", attr: "sql.has_where", value: true } }] }, { approvers: ["dba"], timeoutMs: 900_000 }),
  rule("ci-on-prod", 1, "allow", inCmd("postgres", ["select", "insert", "update", "delete"])),
];

const ciOnProd = policy("ci-on-prod", ["ci-deploy"], ["orders-db"], "postgres", ciRules, {
  masks: [mask("ci-on-prod", 1, ["users.email", "public.users.email"], { kind: "partial", keep: 4 }), mask("ci-on-prod", 2, [], { kind: "redact" }, { op: "true" }, ["credit_card", "us_ssn"])],
  limits: [
    { id: "ci-on-prod/limit#1", policy: "ci-on-prod", measure: "rows", value: 10_000, per: "session", source: "p.hoop:9:3" },
    { id: "ci-on-prod/limit#2", policy: "ci-on-prod", measure: "bytes", value: 5_000_000, per: "statement", source: "p.hoop:10:3" },
  ],
});

const dbaOnProd = policy("dba-on-prod", ["dba"], ["orders-db"], "postgres", [
  rule("dba-on-prod", 1, "allow", { op: "true" }),
  rule("dba-on-prod", 1, "review", inCmd("postgres", ["drop"]), { approvers: ["auditors"], timeoutMs: 60_000 }),
  rule("dba-on-prod", 2, "review", inCmd("postgres", ["drop", "truncate"]), { approvers: ["dba"], timeoutMs: 300_000 }),
], {
  masks: [
    mask("dba-on-prod", 1, ["users.email"], { kind: "hash" }),
    mask("dba-on-prod", 2, ["users.phone"], { kind: "partial", keep: 2 }, { op: "contains", attr: "identity.groups", value: "auditors" }),
    mask("dba-on-prod", 3, ["users.ssn"], { kind: "null" }, { op: "contains", attr: "claims.groups", value: "contractors" }),
  ],
  limits: [{ id: "dba-on-prod/limit#1", policy: "dba-on-prod", measure: "rows", value: 500, per: "session", source: "d.hoop:5:3" }],
});

const auditorsOnProd = policy("auditors-on-prod", ["auditors"], ["orders-db"], "postgres", [
  rule("auditors-on-prod", 1, "allow", { op: "and", args: [inCmd("postgres", ["select"]), { op: "matches", attr: "sql.text", regex: "^SELECT\\s.*FROM audit_" }] }),
  rule("auditors-on-prod", 1, "deny", { op: "cmp", cmp: ">=", attr: "time.hour", value: 22 }, { reason: "no audits at night" }),
], {
  masks: [mask("auditors-on-prod", 1, ["users.phone"], { kind: "redact" }), mask("auditors-on-prod", 2, ["users.email"], { kind: "partial", keep: 1 })],
  limits: [{ id: "auditors-on-prod/limit#1", policy: "auditors-on-prod", measure: "rows", value: 2_000, per: "session", source: "a.hoop:5:3" }],
});

const ciOnBastion = policy("ci-on-bastion", ["ci-deploy"], ["bastion"], "ssh", [
  rule("ci-on-bastion", 1, "deny", inCmd("ssh", ["port_forward", "agent_forward", "x11"])),
  rule("ci-on-bastion", 2, "deny", { op: "cmp", cmp: "==", attr: "ssh.dynamic", value: true }, { reason: "commands must be static" }),
  rule("ci-on-bastion", 1, "review", { op: "and", args: [{ op: "has_any", attr: "ssh.programs", values: ["systemctl"] }, { op: "has_any", attr: "ssh.args", values: ["restart", "stop"] }] }, { approvers: ["dba"] }),
  rule("ci-on-bastion", 1, "allow", { op: "and", args: [{ op: "cmp", cmp: "==", attr: "ssh.kind", value: "exec" }, { op: "within", attr: "ssh.programs", values: ["systemctl", "journalctl", "df", "uptime"] }] }),
]);

const ciOnK8s = policy("ci-on-k8s", ["ci-deploy"], ["k8s-prod"], "kubernetes", [
  rule("ci-on-k8s", 1, "allow", { op: "and", args: [inCmd("kubernetes", ["get", "list"]), { op: "like", attr: "k8s.namespace", pattern: "team-*" }] }),
  rule("ci-on-k8s", 1, "deny", { op: "cmp", cmp: "==", attr: "k8s.resource", value: "secrets" }, { reason: "no secrets" }),
]);

const stagingForAll = policy("staging-open", ["everyone-gh"], ["staging-db"], "postgres", [
  rule("staging-open", 1, "allow", { op: "cmp", cmp: "==", attr: "claims.environment", value: "staging" }),
  rule("staging-open", 2, "allow", { op: "not", arg: { op: "cmp", cmp: "==", attr: "claims.missing", value: "x" } }),
]);

const fixture = seal([ciOnProd, dbaOnProd, auditorsOnProd, ciOnBastion, ciOnK8s, stagingForAll]);

function open(engine: Engine, identity: Identity, connection: string): EngineSession {
  const result = engine.openSession(identity, connection);
  if (!result.ok) throw new Error(`expected a session, got: ${result.reason}`);
  return result.session;
}

function stmt(command: SqlStatementFacts["command"], more: Partial<SqlStatementFacts> = {}): SqlStatementFacts {
  return { command, tables: [], functions: [], hasWhere: true, text: `${command} …`, ...more };
}

const noon = new Date("2025-06-04T12:00:00Z"); // a Wednesday

describe("groups and applicability", () => {
  it("evaluates group predicates: issuer must equal, then `when`", async () => {
    const engine = await loadEngine(fixture);
    expect(engine.groupsOf(ci)).toEqual(["ci-deploy", "everyone-gh"]);
    expect(engine.groupsOf(dba)).toEqual(["auditors", "dba"]);
    expect(engine.groupsOf(stranger)).toEqual(["everyone-gh"]);
    // right claims, wrong issuer
    expect(engine.groupsOf({ ...dba, issuer: GH })).toEqual(["everyone-gh"]);
  });

  it("applies a policy only when a subject group and the connection both match", async () => {
    const engine = await loadEngine(fixture);
    expect(open(engine, ci, "orders-db").policies).toEqual(["ci-on-prod"]);
    expect(open(engine, dba, "orders-db").policies).toEqual(["dba-on-prod", "auditors-on-prod"]);
    expect(open(engine, ci, "bastion").policies).toEqual(["ci-on-bastion"]);
    expect(open(engine, ci, "orders-db").groups).toEqual(["ci-deploy", "everyone-gh"]);
  });

  it("refuses at connect time when no policy applies or the connection is unknown", async () => {
    const engine = await loadEngine(fixture);
    const refused = engine.openSession(stranger, "orders-db");
    expect(refused).toEqual({ ok: false, reason: expect.stringContaining("no policy lets repo:evil/x") });
    expect(engine.openSession(dba, "bastion").ok).toBe(false);
    expect(engine.openSession(ci, "nope")).toEqual({ ok: false, reason: 'unknown connection "nope"' });
    expect(engine.openSession(ci, "__proto__")).toEqual({ ok: false, reason: 'unknown connection "__proto__"' });
  });
});

describe("decisions", () => {
  it("deny beats review beats allow, with the deny rule's reason", async () => {
    const session = open(await loadEngine(fixture), ci, "orders-db");
    const drop = session.decideSqlFacts({ ok: true, statements: [stmt("drop", { tables: ["users"] })] }, noon);
    expect(drop).toMatchObject({ effect: "deny", reason: "schema changes go through migrations", rules: ["ci-on-prod/deny#1"] });
    // a delete without WHERE matches both the review and the allow rule: review wins
    const del = session.decideSqlFacts({ ok: true, statements: [stmt("delete", { hasWhere: false })] }, noon);
    expect(del).toMatchObject({ effect: "review", rules: ["ci-on-prod/review#1"], approvers: ["dba"], timeoutMs: 900_000, reason: "approval required by dba" });
    expect(del.reviewRules).toEqual([{ id: "ci-on-prod/review#1", approvers: ["dba"] }]);
    // a function deny (an `any` rule) beats the allow of select
    const read = session.decideSqlFacts({ ok: true, statements: [stmt("select", { functions: ["pg_read_file", "pg_catalog.pg_read_file"] })] }, noon);
    expect(read).toMatchObject({ effect: "deny", rules: ["ci-on-prod/deny#2"], reason: "denied by rule ci-on-prod/deny#2" });
    const ok = session.decideSqlFacts({ ok: true, statements: [stmt("delete", { hasWhere: true })] }, noon);
    expect(ok).toMatchObject({ effect: "allow", rules: ["ci-on-prod/allow#1"], approvers: [] });
  });

  it("denies by default, naming the command and the connection", async () => {
    const session = open(await loadEngine(fixture), ci, "orders-db");
    const d = session.decideSqlFacts({ ok: true, statements: [stmt("vacuum")] }, noon);
    expect(d).toMatchObject({ effect: "deny", rules: [], reason: "no policy allows vacuum on orders-db" });
    expect(d.statements).toEqual([{ command: "vacuum", tables: [], functions: [], effect: "deny", rules: [], reason: "no policy allows vacuum on orders-db" }]);
  });

  it("passes the names EXECUTE, FETCH and MOVE use on to the statement's decision", async () => {
    const session = open(await loadEngine(fixture), ci, "orders-db");
    const d = session.decideSqlFacts({ ok: true, statements: [stmt("other", { fetches: ["c1"] }), stmt("execute", { executes: ["p"] }), stmt("other")] }, noon);
    expect(d.statements.map((s) => [s.fetches, s.executes])).toEqual([[["c1"], undefined], [undefined, ["p"]], [undefined, undefined]]);
  });

  it("takes the most restrictive statement of a multi-statement query", async () => {
    const session = open(await loadEngine(fixture), ci, "orders-db");
    const mixed = session.decideSqlFacts({ ok: true, statements: [stmt("select"), stmt("update", { hasWhere: false }), stmt("insert")] }, noon);
    expect(mixed.effect).toBe("review");
    expect(mixed.statements.map((s) => s.effect)).toEqual(["allow", "review", "allow"]);
    expect(mixed.rules).toEqual(["ci-on-prod/review#1"]);
    const worse = session.decideSqlFacts({ ok: true, statements: [stmt("select"), stmt("update", { hasWhere: false }), stmt("truncate")] }, noon);
    expect(worse).toMatchObject({ effect: "deny", reason: "schema changes go through migrations", rules: ["ci-on-prod/deny#1"], approvers: [] });
    const allowed = session.decideSqlFacts({ ok: true, statements: [stmt("select"), stmt("insert")] }, noon);
    expect(allowed).toMatchObject({ effect: "allow", rules: ["ci-on-prod/allow#1"] });
  });

  it("collects every review rule's approvers across policies and takes the shortest timeout", async () => {
    const session = open(await loadEngine(fixture), dba, "orders-db");
    const drop = session.decideSqlFacts({ ok: true, statements: [stmt("drop")] }, noon);
    expect(drop).toMatchObject({ effect: "review", approvers: ["auditors", "dba"], timeoutMs: 60_000, rules: ["dba-on-prod/review#1", "dba-on-prod/review#2"] });
    expect(drop.reviewRules).toEqual([
      { id: "dba-on-prod/review#1", approvers: ["auditors"] },
      { id: "dba-on-prod/review#2", approvers: ["dba"] },
    ]);
  });

  it("denies unparseable SQL with the parser's message, and the empty query", async () => {
    const session = open(await loadEngine(fixture), ci, "orders-db");
    expect(session.decideSqlFacts({ ok: false, error: 'syntax error at or near "SELEC"', position: 0 })).toMatchObject({
      effect: "deny",
      reason: 'SQL does not parse: syntax error at or near "SELEC"',
      rules: [],
    });
    expect(session.decideSqlFacts({ ok: true, statements: [] }).effect).toBe("deny");
  });

  it("reads time.hour in UTC", async () => {
    const session = open(await loadEngine(fixture), dba, "orders-db");
    const late = session.decideSqlFacts({ ok: true, statements: [stmt("select")] }, new Date("2025-06-04T22:30:00Z"));
    expect(late).toMatchObject({ effect: "deny", reason: "no audits at night" });
    expect(session.decideSqlFacts({ ok: true, statements: [stmt("select")] }, noon).effect).toBe("allow");
  });

  it("makes every leaf on a missing claim false, `not` of it true", async () => {
    const engine = await loadEngine(fixture);
    const session = open(engine, stranger, "staging-db");
    // claims.environment is missing: rule 1 is false; `not (claims.missing == "x")` is true
    expect(session.decideSqlFacts({ ok: true, statements: [stmt("select")] }, noon)).toMatchObject({ effect: "allow", rules: ["staging-open/allow#2"] });
    const staging = open(engine, { ...stranger, claims: { ...stranger.claims, environment: "staging" } }, "staging-db");
    expect(staging.decideSqlFacts({ ok: true, statements: [stmt("select")] }, noon).rules).toEqual(["staging-open/allow#1", "staging-open/allow#2"]);
  });

  it("refuses a decision of the wrong protocol for the connection", async () => {
    const session = open(await loadEngine(fixture), ci, "bastion");
    expect(session.decideSqlFacts({ ok: true, statements: [stmt("select")] })).toMatchObject({ effect: "deny", reason: "connection bastion is ssh, not postgres" });
  });

  it("decides ssh facts and kubernetes requests", async () => {
    const engine = await loadEngine(fixture);
    const ssh = open(engine, ci, "bastion");
    const facts = (programs: string[], args: string[], dynamic = false) => ({ kind: "exec" as const, command: "…", programs, args, dynamic });
    expect(ssh.decideSshFacts(facts(["df", "uptime"], ["-h"]), noon).effect).toBe("allow");
    expect(ssh.decideSshFacts(facts(["rm"], ["-rf", "/"]), noon)).toMatchObject({ effect: "deny", reason: "no policy allows exec on bastion" });
    expect(ssh.decideSshFacts(facts(["systemctl"], ["restart", "nginx"]), noon)).toMatchObject({ effect: "review", approvers: ["dba"] });
    expect(ssh.decideSshFacts(facts(["df"], [], true), noon)).toMatchObject({ effect: "deny", reason: "commands must be static" });
    expect(ssh.decideSshFacts({ ...facts([], []), kind: "port_forward" }, noon).rules).toEqual(["ci-on-bastion/deny#1"]);
    expect(ssh.decideSshFacts({ ...facts([], []), error: "unexpected EOF" }, noon)).toMatchObject({ effect: "deny", reason: "shell command does not parse: unexpected EOF" });

    const k8s = open(engine, ci, "k8s-prod");
    expect(k8s.decideK8s({ verb: "get", resource: "pods", namespace: "team-a" }, noon).effect).toBe("allow");
    expect(k8s.decideK8s({ verb: "get", resource: "pods", namespace: "kube-system" }, noon).effect).toBe("deny");
    expect(k8s.decideK8s({ verb: "get", resource: "secrets", namespace: "team-a" }, noon)).toMatchObject({ effect: "deny", reason: "no secrets" });
    expect(k8s.decideK8s({ verb: "delete", resource: "pods", namespace: "team-a" }, noon).reason).toBe("no policy allows delete on k8s-prod");
  });
});

describe("like and matches", () => {
  const likeBundle = (pattern: string) =>
    seal([policy("p", ["everyone-gh"], ["staging-db"], "postgres", [rule("p", 1, "allow", { op: "like", attr: "sql.text", pattern })])]);

  it("like: `*` only, anchored, everything else literal", async () => {
    const cases: [string, string, boolean][] = [
      ["SELECT * FROM t*", "SELECT * FROM things", true],
      ["SELECT * FROM t*", "xSELECT 1 FROM t", false],
      ["a.c", "abc", false],
      ["a.c", "a.c", true],
      ["(x|y)+?", "(x|y)+?", true],
      ["(x|y)+?", "x", false],
      ["*drop*", "please\ndrop it", true],
      ["[a]", "a", false],
    ];
    for (const [pattern, text, allowed] of cases) {
      const session = open(await loadEngine(likeBundle(pattern)), stranger, "staging-db");
      const d = session.decideSqlFacts({ ok: true, statements: [stmt("select", { text })] });
      expect([pattern, text, d.effect]).toEqual([pattern, text, allowed ? "allow" : "deny"]);
    }
  });

  it("like: matched by segments, the same as the anchored regular expression, in linear time", () => {
    const toRegExp = (pattern: string): RegExp =>
      new RegExp(`^${pattern.split("*").map((part) => part.replace(/[.*+?^${"$"}{}()|[\]\\/-]/g, "\\$&")).join(".*")}$`, "s");
    const random = seededRandom(7);
    const alphabet = "ab*";
    const word = (n: number, chars: string): string => Array.from({ length: n }, () => chars[Math.floor(random() * chars.length)]).join("");
    for (let i = 0; i < 5000; i++) {
      const pattern = word(1 + Math.floor(random() * 6), alphabet);
      const text = word(Math.floor(random() * 10), "ab");
      expect([pattern, text, globMatcher(pattern)(text)]).toEqual([pattern, text, toRegExp(pattern).test(text)]);
    }
    // a client chooses sql.text: a pattern of several stars over a long text that almost matches
    const text = `select '${'"pg_shadow"'.repeat(30000)}'`;
    const started = performance.now();
    expect(globMatcher("*pg_shadow*password*")(text)).toBe(false);
    expect(performance.now() - started).toBeLessThan(200);
  });

  it("matches: an unanchored regular expression", async () => {
    const session = open(await loadEngine(fixture), dba, "orders-db");
    // auditors may only select from audit_ tables; dba-on-prod allows anyway, so look at the rules
    const d = session.decideSqlFacts({ ok: true, statements: [stmt("select", { text: "SELECT id FROM audit_log" })] }, noon);
    expect(d.rules).toEqual(["auditors-on-prod/allow#1", "dba-on-prod/allow#1"]);
    const other = session.decideSqlFacts({ ok: true, statements: [stmt("select", { text: "SELECT id FROM users" })] }, noon);
    expect(other.rules).toEqual(["dba-on-prod/allow#1"]);
  });
});

describe("masks and limits", () => {
  it("unions applicable masks; the strongest strategy per column wins; conditions use session attributes", async () => {
    const engine = await loadEngine(fixture);
    const ciMasks = open(engine, ci, "orders-db").masks;
    expect(Object.fromEntries(ciMasks.columns)).toEqual({ "users.email": { kind: "partial", keep: 4 }, "public.users.email": { kind: "partial", keep: 4 } });
    expect(Object.fromEntries(ciMasks.detectors)).toEqual({ credit_card: { kind: "redact" }, us_ssn: { kind: "redact" } });

    // dba is also an auditor: hash beats partial(1) on email, redact beats partial(2) on phone;
    // the contractors-only null mask does not apply
    const dbaMasks = open(engine, dba, "orders-db").masks;
    expect(Object.fromEntries(dbaMasks.columns)).toEqual({ "users.email": { kind: "hash" }, "users.phone": { kind: "redact" } });
    const contractor = open(engine, { ...dba, claims: { ...dba.claims, groups: ["dba", "contractors"] } }, "orders-db").masks;
    expect(contractor.columns.get("users.ssn")).toEqual({ kind: "null" });
  });

  it("takes the minimum limit per measure and scope", async () => {
    const engine = await loadEngine(fixture);
    expect(open(engine, ci, "orders-db").limits).toEqual({ rowsPerSession: 10_000, bytesPerStatement: 5_000_000 });
    expect(open(engine, dba, "orders-db").limits).toEqual({ rowsPerSession: 500 });
  });

  it("memoizes the merged table by policy set", async () => {
    const engine = await loadEngine(fixture);
    const a = open(engine, ci, "orders-db");
    const b = open(engine, { ...ci, subject: "repo:acme/web:ref:refs/heads/main", claims: { ...ci.claims, repository: "acme/web" } }, "orders-db");
    expect(a.table).toBe(b.table);
    expect(open(engine, dba, "orders-db").table).not.toBe(a.table);
  });
});

describe("broken bundles", () => {
  const broken = (mutate: (b: Record<string, any>) => void, reseal = true) => {
    const copy = structuredClone(fixture) as Record<string, any>;
    mutate(copy);
    if (reseal) copy.sha256 = bundleDigest(copy);
    return copy;
  };

  it.each([
    ["unknown op", (b: any) => (b.policies[2].rules[0].cond.args[1] = { op: "xor", attr: "sql.text" }), 'policies[2].rules[0].cond.args[1]: unknown op "xor"'],
    ["rule index out of range", (b: any) => b.policies[0].index.postgres.byValue.select.push(9), "policies[0].index.postgres.byValue.select[1]: 9 is not a rule index (0…3)"],
    ["unknown effect", (b: any) => (b.policies[1].rules[0].effect = "permit"), 'policies[1].rules[0].effect: unknown effect "permit"'],
    ["unknown attribute", (b: any) => (b.groups.dba.when.attr = "claim.groups"), 'groups.dba.when.attr: unknown attribute "claim.groups"'],
    ["unknown detector", (b: any) => b.policies[0].masks[1].detectors.push("ssn"), "policies[0].masks[1].detectors[2]: \"ssn\" is not one of"],
    ["unknown strategy", (b: any) => (b.policies[0].masks[0].strategy = { kind: "scramble" }), 'policies[0].masks[0].strategy.kind: "scramble" is not one of'],
    ["unknown group", (b: any) => (b.policies[0].rules[2].approvers = ["dbas"]), 'policies[0].rules[2].approvers[0]: unknown group "dbas"'],
    ["an ignored key", (b: any) => (b.policies[0].rules[3].unless = { op: "true" }), "policies[0].rules[3].unless: unknown key"],
    ["wrong format", (b: any) => (b.format = "hoopgate.bundle/v2"), 'format: expected "hoopgate.bundle/v1"'],
    ["bad regex", (b: any) => (b.policies[2].rules[0].cond.args[1].regex = "(unclosed"), "policies[2].rules[0].cond.args[1].regex: invalid regular expression"],
    ["statement attribute in a mask", (b: any) => (b.policies[1].masks[0].cond = { op: "in", attr: "sql.command", values: ["select"] }), "policies[1].masks[0].cond: masks are decided at session start, but this reads sql.command"],
    ["foreign attribute in an index", (b: any) => (b.policies[0].rules[1].cond.attr = "ssh.programs"), "policies[0].rules[1].cond: reads ssh.programs, which postgres connections do not have"],
    ["byConnection out of step", (b: any) => (b.byConnection["staging-db"] = []), "policies[5].connections[0]: byConnection.staging-db does not list this policy"],
    ["missing cond", (b: any) => delete b.policies[0].rules[0].cond, 'policies[0].rules[0]: missing "cond"'],
  ])("%s", async (_name, mutate, message) => {
    await expect(loadEngine(broken(mutate))).rejects.toThrow(message);
  });

  it("rejects a bundle whose sha256 does not match its content", async () => {
    const tampered = broken((b) => (b.policies[0].rules[0].effect = "allow"), false);
    await expect(loadEngine(tampered)).rejects.toThrow(/^sha256: does not match the content/);
  });

  it("returns a frozen copy: the engine cannot be changed behind its back", () => {
    const input = structuredClone(fixture);
    const bundle = validateBundle(input);
    input.policies[0]!.rules[0]!.effect = "allow";
    expect(bundle.policies[0]!.rules[0]!.effect).toBe("deny");
    expect(Object.isFrozen(bundle.policies[0]!.rules[0])).toBe(true);
  });
});

describe("with the real fact extractors", () => {
  it("decides SQL text through the PostgreSQL parser", async () => {
    const session = open(await loadEngine(fixture), ci, "orders-db");
    expect(session.decideSql("DROP TABLE users", noon)).toMatchObject({ effect: "deny", rules: ["ci-on-prod/deny#1"] });
    expect(session.decideSql("DELETE FROM users", noon).effect).toBe("review");
    expect(session.decideSql("DELETE FROM users WHERE id = 42", noon).effect).toBe("allow");
    expect(session.decideSql("DELETE FROM users WHERE true", noon).effect).toBe("review");
    expect(session.decideSql("SELECT pg_read_file('/etc/passwd')", noon).effect).toBe("deny");
    const multi = session.decideSql("SELECT 1; DROP TABLE users", noon);
    expect(multi.effect).toBe("deny");
    expect(multi.statements.map((s) => [s.command, s.effect])).toEqual([["select", "allow"], ["drop", "deny"]]);
    const broken = session.decideSql("SELEC * FROM users", noon);
    expect(broken).toMatchObject({ effect: "deny", rules: [] });
    expect(broken.reason).toMatch(/^SQL does not parse: .*syntax error/);
  });

  it("decides ssh commands through the shell parser", async () => {
    const session = open(await loadEngine(fixture), ci, "bastion");
    expect((await session.decideSsh({ kind: "exec", command: "df -h | uptime" }, noon)).effect).toBe("allow");
    expect(await session.decideSsh({ kind: "exec", command: "rm -rf /" }, noon)).toMatchObject({ effect: "deny", reason: "no policy allows exec on bastion" });
    expect((await session.decideSsh({ kind: "exec", command: "sh -c 'systemctl restart nginx'" }, noon)).effect).toBe("review");
    expect(await session.decideSsh({ kind: "exec", command: "df $(cat /tmp/x)" }, noon)).toMatchObject({ effect: "deny", reason: "commands must be static" });
    expect((await session.decideSsh({ kind: "shell" }, noon)).effect).toBe("deny");
    expect((await session.decideSsh({ kind: "agent_forward" }, noon)).rules).toEqual(["ci-on-bastion/deny#1"]);
    expect((await session.decideSsh({ kind: "exec" }, noon)).reason).toBe("ssh exec request without a command");
  });
});
