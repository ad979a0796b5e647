// The web console at /console: three static files (HTML, CSS, JS, no framework) read once at
// start and served with a strict Content-Security-Policy; the page talks to the JSON API with
// the token the user pastes.

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";

const FILES = { "index.html": "text/html; charset=utf-8", "console.css": "text/css; charset=utf-8", "console.js": "text/javascript; charset=utf-8" } as const;
const HEADERS = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

/** the assets sit next to the sources; a build in dist/ reads them from the source tree */
function assetsDir(): string {
  for (const candidate of ["../console/", "../../../../runtime/api/console/"]) {
    const dir = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  throw new Error("the console's files (runtime/api/console/) are missing from this installation");
}

export async function consoleApi(app: FastifyInstance): Promise<void> {
  const dir = assetsDir();
  const assets = new Map<string, { body: Buffer; type: string }>();
  for (const [name, type] of Object.entries(FILES)) assets.set(name, { body: await readFile(`${dir}${name}`), type });
  const send = (name: string) => async (_request: unknown, reply: import("fastify").FastifyReply) => {
    const asset = assets.get(name)!;
    return reply.headers(HEADERS).type(asset.type).send(asset.body);
  };
  app.get("/console", send("index.html"));
  app.get("/console/", send("index.html"));
  for (const name of Object.keys(FILES)) app.get(`/console/${name}`, send(name));
}
