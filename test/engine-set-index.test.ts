// Rules pinned to set elements (`sql.tables has_any [...]` as a conjunct) are looked up by the
// statement's elements instead of scanned; decisions must be exactly what a scan gives.

import { beforeAll, describe, expect, it } from "vitest";
import { compileSources } from "../compiler/index.js";
import { loadEngine, type Engine } from "../runtime/engine/index.js";

const ISS = "https://ci.example";
const tableRules = Array.from({ length: 12 }, (_, i) => `  allow when sql.command == select and sql.tables has_any ["t${i + 1}"]`);
const text = `
connection db { kind = postgres }
group ci {
  issuer = "${ISS}"
}
policy p {
  subjects    = [group.ci]
  connections = [connection.db]
${tableRules.join("\n")}
  allow when sql.command == select and sql.tables has_any ["t1", "t2"] { id = "both" }
  allow when sql.command == select and sql.tables has_all ["a", "b"] { id = "pair" }
  allow when sql.command == select and sql.functions has_any ["now"] { id = "clock" }
  deny  when sql.tables has_any ["t5"] { reason = "t5 is frozen" }
}
`;

let engine: Engine;
beforeAll(async () => {
  const r = compileSources([{ path: "p.hoop", text }]);
  if (!r.bundle) throw new Error(r.diagnostics.map((d) => d.message).join("; "));
  engine = await loadEngine(r.bundle);
});

function decide(sql: string) {
  const opened = engine.openSession({ issuer: ISS, subject: "bot", claims: { iss: ISS, sub: "bot" } }, "db");
  if (!opened.ok) throw new Error(opened.reason);
  return opened.session.decideSql(sql);
}

describe("set-element index", () => {
  it("finds the rule of the table a statement names", () => {
    expect(decide("SELECT * FROM t3").statements[0]!.rules).toEqual(["p/allow#3"]);
  });

  it("lists matching rules in source order, whatever order the tables come in", () => {
    expect(decide("SELECT * FROM t7 JOIN t3 ON true").statements[0]!.rules).toEqual(["p/allow#3", "p/allow#7"]);
  });

  it("visits a rule pinned to several elements once", () => {
    expect(decide("SELECT * FROM t2 JOIN t1 ON true").statements[0]!.rules).toEqual(["p/allow#1", "p/allow#2", "both"]);
  });

  it("needs every value of has_all", () => {
    expect(decide("SELECT * FROM a JOIN b ON true").statements[0]!.rules).toEqual(["pair"]);
    expect(decide("SELECT * FROM a").effect).toBe("deny");
  });

  it("still checks rules pinned to another attribute, and deny still wins", () => {
    expect(decide("SELECT now()").statements[0]!.rules).toEqual(["clock"]);
    expect(decide("SELECT * FROM t5 JOIN t4 ON true")).toMatchObject({ effect: "deny", reason: "t5 is frozen" });
  });

  it("denies by default what no rule allows", () => {
    expect(decide("SELECT * FROM t99")).toMatchObject({ effect: "deny", reason: "no policy allows select on db" });
  });
});
