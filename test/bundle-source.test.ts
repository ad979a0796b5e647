import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { signBundle } from "../compiler/sign.js";
import { BundleSource, documentDigest } from "../runtime/bundle/source.js";
import type { BundleConfig } from "../runtime/config/types.js";
import type { Engine } from "../runtime/engine/index.js";
import { createLogger } from "../runtime/log.js";
import { openControlPlane } from "../runtime/api/index.js";
import { bundleOrigin, redactUrl } from "../runtime/bundle/origin.js";
import { makeBundle, signingKey } from "./support/signed-bundles.js";
import { waitFor } from "./support/wait.js";

const trustedKey = signingKey("k1");
const sources: BundleSource[] = [];
const logs: Record<string, unknown>[] = [];
const logger = createLogger({ level: "debug", destination: { write: (line: string) => void logs.push(JSON.parse(line)) } });

afterEach(() => {
  for (const s of sources.splice(0)) s.close();
  logs.length = 0;
});

async function source(config: Partial<BundleConfig> & Pick<BundleConfig, "location">): Promise<BundleSource> {
  const s = new BundleSource({ keys: [trustedKey.trusted], reloadIntervalMs: 60_000, allowUnsigned: false, ...config }, logger);
  sources.push(s);
  await s.start();
  return s;
}

const connectionsOf = (engine: Engine | undefined) => Object.keys(engine?.bundle.connections ?? {});

/** signed and dated (iat) a minute apart, in the order of the calls: what `hoopgate compile --sign` produces */
let clock = Math.floor(Date.now() / 1000) - 3600;
const dated = (connection: string, issuedAt = (clock += 60)) => signBundle(makeBundle(connection), trustedKey.pem, "k1", { issuedAt });

async function tempFile(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), "hoopgate-bundle-")), "bundle.json");
}

describe("BundleSource", () => {
  it("loads a signed bundle from a file", async () => {
    const path = await tempFile();
    await writeFile(path, signBundle(makeBundle("orders-db"), trustedKey.pem, "k1"));
    const s = await source({ location: { kind: "file", path } });
    expect(connectionsOf(s.current())).toEqual(["orders-db"]);
    expect(s.status()).toMatchObject({ origin: path, sha256: makeBundle("orders-db").sha256 });
    const session = s.current()?.openSession({ issuer: "https://issuer.test", subject: "bot", claims: {} }, "orders-db");
    expect(session?.ok).toBe(true);
  });

  it("reloads when the file is rewritten or replaced, and tells listeners", async () => {
    const path = await tempFile();
    await writeFile(path, signBundle(makeBundle("v1"), trustedKey.pem, "k1"));
    const s = await source({ location: { kind: "file", path } });
    const seen: string[][] = [];
    s.onChange((engine) => seen.push(connectionsOf(engine)));

    await writeFile(path, dated("v2"));
    await waitFor("the in-place rewrite to load", () => connectionsOf(s.current())[0] === "v2");

    await writeFile(`${path}.tmp`, dated("v3"));
    await rename(`${path}.tmp`, path);
    await waitFor("the atomically replaced file to load", () => connectionsOf(s.current())[0] === "v3");
    expect(seen).toEqual([["v2"], ["v3"]]);
  });

  it("keeps the last good bundle when a new one has a bad signature", async () => {
    const path = await tempFile();
    await writeFile(path, signBundle(makeBundle("good"), trustedKey.pem, "k1"));
    const s = await source({ location: { kind: "file", path } });

    const impostor = signingKey("k1");
    await writeFile(path, signBundle(makeBundle("evil"), impostor.pem, "k1"));
    await waitFor("the forged bundle to be refused", () => s.status().lastError !== undefined);
    expect(s.status().lastError).toMatch(/^bundle signature: /);
    expect(connectionsOf(s.current())).toEqual(["good"]);
    expect(logs).toContainEqual(expect.objectContaining({ level: 50, msg: "bundle refused; keeping the last good bundle" }));

    const [header, , signature] = signBundle(makeBundle("good"), trustedKey.pem, "k1").split(".");
    const payload = Buffer.from(JSON.stringify(makeBundle("evil"))).toString("base64url");
    await writeFile(path, `${header}.${payload}.${signature}`);
    expect(await s.reload()).toBe(false);
    expect(connectionsOf(s.current())).toEqual(["good"]);

    await writeFile(path, dated("fixed"));
    await waitFor("the next good bundle to load", () => connectionsOf(s.current())[0] === "fixed");
    expect(s.status().lastError).toBeUndefined();
  });

  it("keeps the last good bundle when the file becomes broken JSON or disappears (unsigned dev mode)", async () => {
    const path = await tempFile();
    await writeFile(path, JSON.stringify(makeBundle("dev")));
    const s = await source({ location: { kind: "file", path }, keys: [], allowUnsigned: true });
    expect(connectionsOf(s.current())).toEqual(["dev"]);

    await writeFile(path, '{"format": "hoopgate.bundle/v1", "connections": {');
    await waitFor("the broken JSON to be refused", () => s.status().lastError !== undefined);
    expect(s.status().lastError).toMatch(/^bundle is not valid JSON: /);
    expect(connectionsOf(s.current())).toEqual(["dev"]);

    await writeFile(path, JSON.stringify({ ...makeBundle("dev2"), sha256: "0".repeat(64) }));
    expect(await s.reload()).toBe(false);
    expect(s.status().lastError).toMatch(/sha256/);
    expect(connectionsOf(s.current())).toEqual(["dev"]);

    await rm(path);
    expect(await s.reload()).toBe(false);
    expect(connectionsOf(s.current())).toEqual(["dev"]);
  });

  it("refuses an unsigned bundle when keys are configured or allow_unsigned is off", async () => {
    for (const config of [{ keys: [trustedKey.trusted], allowUnsigned: true }, { keys: [], allowUnsigned: false }]) {
      const path = await tempFile();
      await writeFile(path, JSON.stringify(makeBundle("plain")));
      const s = await source({ location: { kind: "file", path }, ...config });
      expect(s.current()).toBeUndefined();
      expect(s.status().lastError).toBe("bundle is not signed: only bundles signed by a trusted key are loaded (hoopgate compile --sign)");
    }
    expect(logs).toContainEqual(expect.objectContaining({ msg: "bundle refused; no bundle is in force: every connection is refused" }));
  });

  it("has no engine without a bundle, and loads one when the file appears", async () => {
    const path = await tempFile();
    const s = await source({ location: { kind: "file", path } });
    expect(s.current()).toBeUndefined();
    expect(logs).toContainEqual(expect.objectContaining({ level: 40, msg: "no bundle file" }));
    await writeFile(path, signBundle(makeBundle("late"), trustedKey.pem, "k1"));
    await waitFor("the new file to load", () => s.current() !== undefined);
    expect(connectionsOf(s.current())).toEqual(["late"]);
  });

  it("polls an http URL and keeps the last good bundle when the server fails", async () => {
    let body = signBundle(makeBundle("remote1"), trustedKey.pem, "k1");
    let status = 200;
    const server = createServer((_req, res) => res.writeHead(status).end(body));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bundle.jws`;
    try {
      const s = await source({ location: { kind: "url", url }, reloadIntervalMs: 100 });
      expect(connectionsOf(s.current())).toEqual(["remote1"]);
      body = dated("remote2");
      await waitFor("the polled URL to load the new bundle", () => connectionsOf(s.current())[0] === "remote2");
      status = 503;
      await waitFor("the HTTP failure to be recorded", () => s.status().lastError !== undefined);
      expect(s.status().lastError).toBe(`cannot read the bundle: GET ${url}: HTTP 503`);
      expect(connectionsOf(s.current())).toEqual(["remote2"]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("never shows or logs a URL's query string or userinfo: presigned signatures and tokens stay out of /api/bundle, errors and logs", async () => {
    let body = signBundle(makeBundle("remote1"), trustedKey.pem, "k1");
    let status = 200;
    const server = createServer((_req, res) => res.writeHead(status).end(body));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bundle.jws`;
    const url = `${base}?X-Amz-Signature=deadbeefsecret&private_token=SECRET-TOKEN#frag`;
    const plane = await openControlPlane({ store: { kind: "memory" }, logger: createLogger({ level: "silent" }), verifyToken: async () => { throw new Error("no"); }, engine: () => undefined });
    try {
      const s = await source({ location: { kind: "url", url } });
      expect(s.status().origin).toBe(base);
      status = 503;
      body = "";
      await s.reload();
      expect(s.status().lastError).toBe(`cannot read the bundle: GET ${base}: HTTP 503`);
      const api = await plane.startApi({ host: "127.0.0.1", port: 0 }, { bundleStatus: () => s.status() });
      const shown = await (await fetch(`${api.url}/api/bundle`)).text();
      expect(JSON.parse(shown)).toMatchObject({ origin: base, lastError: `cannot read the bundle: GET ${base}: HTTP 503` });
      for (const text of [shown, JSON.stringify(logs)]) {
        expect(text).not.toContain("deadbeefsecret");
        expect(text).not.toContain("SECRET-TOKEN");
      }
    } finally {
      await plane.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("redacts userinfo, query and fragment of an http(s) URL, and leaves paths and s3:// keys as written", () => {
    expect(redactUrl("https://user:pass@bundles.example:8443/a/b.jws?sig=1&t=2#x")).toBe("https://bundles.example:8443/a/b.jws");
    expect(redactUrl("https://bundles.example/b.jws")).toBe("https://bundles.example/b.jws");
    expect(redactUrl("https://u:p@[bad/b.jws?sig=1")).toBe("https://[bad/b.jws");
    expect(bundleOrigin({ kind: "s3", url: "s3://bucket/a?b", bucket: "bucket", key: "a?b" })).toBe("s3://bucket/a?b");
    expect(bundleOrigin({ kind: "file", path: "/etc/hoopgate/b?.jws" })).toBe("/etc/hoopgate/b?.jws");
  });

  describe("rollback", () => {
    /** a URL source whose body the test sets */
    async function served(first: string) {
      let body = first;
      const server = createServer((_req, res) => res.end(body));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const s = await source({ location: { kind: "url", url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/bundle.jws` } });
      return {
        s,
        serve: async (next: string) => {
          body = next;
          return s.reload();
        },
        close: async () => {
          server.closeAllConnections();
          await new Promise((resolve) => server.close(resolve));
        },
      };
    }

    it("refuses an older signed bundle served again after a newer one, dated or not", async () => {
      const v1 = dated("old-db");
      const v1Undated = signBundle(makeBundle("old-db"), trustedKey.pem, "k1");
      const v2 = dated("new-db");
      const { s, serve, close } = await served(v2);
      try {
        expect(connectionsOf(s.current())).toEqual(["new-db"]);
        expect(await serve(v1)).toBe(false);
        expect(connectionsOf(s.current())).toEqual(["new-db"]);
        expect(s.status().lastError).toMatch(/^bundle refused: issued at .*, before the bundle in force \(issued at .*\); a rollback is refused: sign the bundle again/);
        expect(logs).toContainEqual(expect.objectContaining({ level: 50, msg: "bundle refused; keeping the last good bundle" }));
        expect(await serve(v1Undated)).toBe(false);
        expect(s.status().lastError).toMatch(/^bundle refused: it has no signed issue time \(iat\), and only a dated bundle replaces the one in force/);
        expect(connectionsOf(s.current())).toEqual(["new-db"]);
        // signed again, the old policy is a new decision: it loads
        expect(await serve(dated("old-db"))).toBe(true);
        expect(connectionsOf(s.current())).toEqual(["old-db"]);
        expect(s.status().issuedAt?.getTime()).toBe(clock * 1000);
      } finally {
        await close();
      }
    });

    it("refuses a document it had in force and replaced, even dated the same second as its successor", async () => {
      const at = (clock += 60);
      const a = dated("a", at);
      const b = dated("b", at);
      const { s, serve, close } = await served(a);
      try {
        expect(await serve(b)).toBe(true);
        expect(await serve(a)).toBe(false);
        expect(s.status().lastError).toMatch(/^bundle refused: this document was in force earlier and has been replaced since/);
        expect(connectionsOf(s.current())).toEqual(["b"]);
      } finally {
        await close();
      }
    });

    it("takes an undated bundle first, then only dated ones; an admin's deploy (permit) may go back", async () => {
      const { s, serve, close } = await served(signBundle(makeBundle("first"), trustedKey.pem, "k1"));
      try {
        expect(connectionsOf(s.current())).toEqual(["first"]);
        expect(s.status().issuedAt).toBeUndefined();
        expect(await serve(signBundle(makeBundle("undated"), trustedKey.pem, "k1"))).toBe(false);
        const newer = dated("newer");
        expect(await serve(newer)).toBe(true);
        const older = dated("older", clock - 600);
        expect(await serve(older)).toBe(false);
        s.permit(documentDigest(older));
        expect(await s.reload()).toBe(true);
        expect(connectionsOf(s.current())).toEqual(["older"]);
        // the permit was for one install: the replaced newer document is refused again, as a replay
        expect(await serve(newer)).toBe(false);
        expect(s.status().lastError).toMatch(/this document was in force earlier/);
      } finally {
        await close();
      }
    });

    it("does not hold development JSON bundles (allow_unsigned) to it", async () => {
      const path = await tempFile();
      await writeFile(path, JSON.stringify(makeBundle("dev1")));
      const s = await source({ location: { kind: "file", path }, keys: [], allowUnsigned: true });
      await writeFile(path, JSON.stringify(makeBundle("dev2")));
      expect(await s.reload()).toBe(true);
      await writeFile(path, JSON.stringify(makeBundle("dev1")));
      expect(await s.reload()).toBe(true);
      expect(connectionsOf(s.current())).toEqual(["dev1"]);
    });
  });
});
