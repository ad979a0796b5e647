// The web console in a real browser (Debian's Chromium, headless, through playwright-core):
// sign in with a pasted token, see the held statement, approve it, and the client's DELETE
// completes; then replay the session. The API is served over HTTPS, as a gateway with `tls`
// serves it; Chromium trusts exactly the test certificate (pinned by its public key).

import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { chromium, type BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeApiCertificates } from "./support/api-tls.js";
import { heldRequest, startApprovalGateway, startIdentities, type ApprovalGateway, type Identities } from "./support/approval-gateway.js";
import { freshDatabase, PG } from "./support/pg-gateway.js";

const CHROMIUM = "/usr/bin/chromium";
const DB = "hoopgate_console_target";

const policy = (issuer: string): string => `
connection testdb { kind = postgres }
group writers {
  issuer = "${issuer}"
  when   = claims.role == "writer"
}
group dba {
  issuer = "${issuer}"
  when   = claims.role == "dba"
}
policy work {
  subjects    = [group.writers]
  connections = [connection.testdb]
  review when sql.command == delete and not sql.has_where { id = "wipe", approvers = [group.dba] }
  allow  when sql.command in [select, insert, delete]
}
`;

let ids: Identities;
let gw: ApprovalGateway;
let browser: BrowserContext;
let direct: pg.Client;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`the console test needs Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
  await freshDatabase(DB);
  direct = new pg.Client({ ...PG, database: DB });
  await direct.connect();
  await direct.query("create table jobs (id int primary key, name text); insert into jobs select g, 'job ' || g from generate_series(1, 7) g");
  ids = await startIdentities(policy);
  const certs = await makeApiCertificates(mkdtempSync(join(tmpdir(), "hoopgate-console-tls-")));
  gw = await startApprovalGateway(ids, { kind: "memory" }, { testdb: { ...PG, database: DB } }, { cert: certs.cert, key: certs.key });
  // a fresh profile directory per run (playwright passes it as --user-data-dir)
  browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "hoopgate-chromium-")), {
    executablePath: CHROMIUM,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
      `--ignore-certificate-errors-spki-list=${certs.spki}`,
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await gw?.close();
  await ids?.close();
  await direct?.end();
});

describe("web console", () => {
  it("signs in, shows the pending request, approves it, and the held DELETE completes", async () => {
    const client = gw.client(await ids.token("writer", "ci-bot"));
    await client.connect();
    const held = heldRequest(client);
    const running = client.query("DELETE FROM jobs");
    const { id, message } = await held;

    const page = await browser.newPage();
    const failures: string[] = [];
    page.on("pageerror", (err) => failures.push(err.message));
    expect(gw.api.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(message).toContain(`${gw.api.url}/console#approval=${id}`);
    await page.goto(`${gw.api.url}/console#approval=${id}`);
    await page.fill("#token", await ids.token("dba", "alice"));
    await page.click("#sign-in-form button[type=submit]");
    const row = page.locator(`#approvals tr[data-id="${id}"]`);
    await row.waitFor();
    expect(await row.innerText()).toContain("DELETE FROM jobs");
    expect(await row.innerText()).toContain("ci-bot");
    expect(await row.innerText()).toContain("wipe → dba");
    await row.getByRole("button", { name: "Approve" }).click();
    expect((await running).rowCount).toBe(7);
    await page.locator("#message", { hasText: `Request ${id} approved.` }).waitFor();
    await row.waitFor({ state: "detached" });
    await client.end();

    await page.click("#refresh");
    const session = page.locator("#sessions tbody tr", { hasText: "ci-bot" }).first();
    await session.getByRole("button", { name: "Replay" }).click();
    await page.locator("#replay-text", { hasText: "DELETE FROM jobs" }).waitFor();
    expect(await page.locator("#replay-text").innerText()).toContain(`approval ${id}`);
    expect(failures).toEqual([]);
    expect(await page.evaluate(() => sessionStorage.getItem("hoopgate.token"))).toMatch(/^ey/);
  });
});
