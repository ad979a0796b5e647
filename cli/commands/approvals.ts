import { parse, UsageError } from "../args.js";
import { writeJson } from "../output.js";

export const summary = "approval requests through the gateway API: list | approve ID | deny ID (--api URL --token T)";

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
    api: { type: "string" }, token: { type: "string" }, note: { type: "string" }, state: { type: "string" }, format: { type: "string" },
  });
  const [verb, id] = positionals;
  if (verb !== "list" && verb !== "approve" && verb !== "deny") throw new UsageError("expected list, approve ID or deny ID");
  if (verb !== "list" && id === undefined) throw new UsageError(`${verb} needs a request ID`);
  if (values.api === undefined) throw new UsageError("--api URL is required (the gateway's API, e.g. http://127.0.0.1:18080)");
  const token = values.token ?? process.env.HOOPGATE_TOKEN;
  if (token === undefined) throw new UsageError("--token T (or HOOPGATE_TOKEN) is required: your own OIDC token");
  const base = values.api.replace(/\/+$/, "");
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const request = verb === "list"
    ? fetch(`${base}/api/approvals?state=${encodeURIComponent(values.state ?? "pending")}`, { headers: { authorization: headers.authorization } })
    : fetch(`${base}/api/approvals/${encodeURIComponent(id!)}/${verb}`, {
      method: "POST", headers, body: JSON.stringify(values.note === undefined ? {} : { note: values.note }),
    });
  let response: Response;
  try {
    response = await request;
  } catch (err) {
    process.stderr.write(`hoopgate approvals: cannot reach ${base}: ${(err as Error).message}\n`);
    return 2;
  }
  const body = (await response.json()) as { message?: string; approvals?: Approval[] } & Partial<Approval>;
  if (!response.ok) {
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
