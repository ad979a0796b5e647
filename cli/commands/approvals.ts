import { readFileSync } from "node:fs";
import { apiRequest, type ApiResponse } from "../../runtime/api/http-client.js";
import { parse, UsageError } from "../args.js";
import { writeJson } from "../output.js";

export const summary = "approval requests through the gateway API: list | approve ID | deny ID (--api URL --token T [--ca FILE])";

interface Approval {
  id: string;
  state: string;
  statement: string;
  connection: string;
  requester: { subject: string; issuer: string };
  rules: { id: string; approvers: string[] }[];
  expiresAt: string;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    api: { type: "string" }, token: { type: "string" }, note: { type: "string" }, state: { type: "string" }, format: { type: "string" }, ca: { type: "string" },
  });
  const [verb, id] = positionals;
  if (verb !== "list" && verb !== "approve" && verb !== "deny") throw new UsageError("expected list, approve ID or deny ID");
  if (verb !== "list" && id === undefined) throw new UsageError(`${verb} needs a request ID`);
  if (values.api === undefined) throw new UsageError("--api URL is required (the gateway's API, e.g. https://gateway.internal:8080)");
  const token = values.token ?? process.env.HOOPGATE_TOKEN;
  if (token === undefined) throw new UsageError("--token T (or HOOPGATE_TOKEN) is required: your own OIDC token");
  const base = values.api.replace(/\/+$/, "");
  let url: URL;
  try {
    url = new URL(verb === "list" ? `${base}/api/approvals?state=${encodeURIComponent(values.state ?? "pending")}` : `${base}/api/approvals/${encodeURIComponent(id!)}/${verb}`);
  } catch {
    throw new UsageError(`--api must be a URL, got "${values.api}"`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new UsageError(`--api must be an https:// (or http://) URL, got "${values.api}"`);
  const caFile = values.ca ?? process.env.HOOPGATE_CA_FILE;
  if (caFile !== undefined && url.protocol !== "https:") throw new UsageError("--ca (HOOPGATE_CA_FILE) is the CA of an https:// API; --api is http://");
  let ca: string | undefined;
  if (caFile !== undefined) {
    try {
      ca = readFileSync(caFile, "utf8");
    } catch (err) {
      throw new UsageError(`--ca: cannot read ${caFile} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  const request = verb === "list"
    ? apiRequest(url, { method: "GET", headers: { authorization: `Bearer ${token}` }, ...(ca !== undefined && { ca }) })
    : apiRequest(url, {
      method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(values.note === undefined ? {} : { note: values.note }), ...(ca !== undefined && { ca }),
    });
  let response: ApiResponse;
  try {
    response = await request;
  } catch (err) {
    process.stderr.write(`hoopgate approvals: cannot reach ${base}: ${(err as Error).message}\n`);
    return 2;
  }
  let body: { message?: string; approvals?: Approval[] } & Partial<Approval>;
  try {
    body = JSON.parse(response.text) as typeof body;
  } catch {
    process.stderr.write(`hoopgate approvals ${verb}: ${response.status} ${response.statusText}: the answer is not JSON (is --api the gateway's API?)\n`);
    return 2;
  }
  if (response.status < 200 || response.status > 299) {
    process.stderr.write(`hoopgate approvals ${verb}: ${response.status} ${body.message ?? response.statusText}\n`);
    return response.status === 403 || response.status === 409 ? 1 : 2;
  }
  if (values.format === "json") writeJson(body);
  else if (verb === "list") {
    for (const a of body.approvals ?? []) {
      process.stdout.write(`${a.id}  ${a.state}  ${a.connection}  ${a.requester.subject}  expires ${a.expiresAt}\n    ${a.statement}\n    rules: ${a.rules.map((r) => `${r.id} → ${r.approvers.join(" or ")}`).join("; ")}\n`);
    }
  } else process.stdout.write(`✓ ${body.id} ${body.state}\n`);
  return 0;
}
