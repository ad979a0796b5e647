// The HTTP client of the gateway API's own clients (`hoopgate approvals`, the Terraform
// provider): node:http(s) rather than fetch, because fetch (undici) takes no per-request CA,
// and a gateway's API certificate is often issued by a private CA. With `ca` that CA is the only
// one trusted; without it, Node's public roots (plus NODE_EXTRA_CA_CERTS). The host name (or IP
// address) is always checked against the certificate.

import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";

export interface ApiRequest {
  method: string;
  headers?: Record<string, string>;
  body?: string;
  /** PEM CA certificate(s) to trust instead of the public roots; https only */
  ca?: string;
  /** default 30 s */
  timeoutMs?: number;
}

export interface ApiResponse {
  status: number;
  statusText: string;
  text: string;
}

/** Far above any answer of the API; stops a wrong endpoint from filling memory. */
const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

/** Rejects with an Error whose message says why the API could not be reached (TLS problems included). */
export function apiRequest(url: URL, options: ApiRequest): Promise<ApiResponse> {
  if (url.protocol !== "https:" && url.protocol !== "http:") return Promise.reject(new Error(`${url.protocol} is not http: or https:`));
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  const body = options.body === undefined ? undefined : Buffer.from(options.body, "utf8");
  return new Promise((resolve, reject) => {
    const req = send(url, {
      method: options.method,
      headers: { ...options.headers, ...(body !== undefined && { "content-length": String(body.length) }) },
      timeout: options.timeoutMs ?? 30_000,
      ...(url.protocol === "https:" && options.ca !== undefined && { ca: options.ca }),
    }, (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) response.destroy(new Error(`the answer is over ${MAX_RESPONSE_BYTES} bytes`));
        else chunks.push(chunk);
      });
      response.on("error", reject);
      response.on("end", () => resolve({ status: response.statusCode ?? 0, statusText: response.statusMessage ?? "", text: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${options.timeoutMs ?? 30_000} ms`)));
    req.on("error", (err) => reject(new Error(describe(err), { cause: err })));
    req.end(body);
  });
}

/** the error, with a hint for the TLS failures a private CA causes */
function describe(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code ?? "";
  const untrusted = ["SELF_SIGNED_CERT_IN_CHAIN", "DEPTH_ZERO_SELF_SIGNED_CERT", "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "CERT_UNTRUSTED"];
  if (untrusted.includes(code)) return `${err.message} (the API's certificate does not chain to a trusted CA: give its CA)`;
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return `${err.message} (the API's certificate does not name this host)`;
  if (code === "EPROTO" || /wrong version number|packet length too long/i.test(err.message)) return `${err.message} (is the API served over https?)`;
  return err.message;
}
