// The provider's HTTP client for the gateway's admin API (`/api/admin/…`), authenticated with
// the provider's `token` as a bearer token, over HTTPS that trusts the provider's
// `ca_certificate` when one is set (else the public roots).

import { apiRequest, type ApiResponse } from "../runtime/api/http-client.js";
import { DiagnosticError } from "./schema/types.js";

export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "AdminApiError";
  }
}

export class AdminClient {
  private readonly base: URL;

  constructor(
    endpoint: string,
    private readonly token: string,
    /** PEM CA certificate(s) the API's certificate chains to; absent: the public roots */
    private readonly ca?: string,
  ) {
    try {
      this.base = new URL(endpoint.endsWith("/") ? endpoint : `${endpoint}/`);
    } catch {
      throw new DiagnosticError("endpoint is not a URL", `got ${JSON.stringify(endpoint)}; expected e.g. https://gateway.internal:8080`, ["endpoint"]);
    }
    if (this.base.protocol !== "http:" && this.base.protocol !== "https:") {
      throw new DiagnosticError("endpoint must be an http(s) URL", `got ${this.base.protocol}`, ["endpoint"]);
    }
    if (ca !== undefined && this.base.protocol !== "https:") {
      throw new DiagnosticError("ca_certificate needs an https:// endpoint", `the endpoint is ${this.base.protocol}//; the gateway serves its API over HTTPS when its config has tls`, ["ca_certificate"]);
    }
  }

  get<T>(path: string): Promise<T> {
    return this.send<T>("GET", path);
  }

  /** undefined on 404 */
  async find<T>(path: string): Promise<T | undefined> {
    try {
      return await this.get<T>(path);
    } catch (error) {
      if (error instanceof AdminApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.send<T>("PUT", path, body);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.send<T>("POST", path, body);
  }

  /** a 404 counts as deleted */
  async delete(path: string): Promise<void> {
    try {
      await this.send("DELETE", path);
    } catch (error) {
      if (!(error instanceof AdminApiError && error.status === 404)) throw error;
    }
  }

  private async send<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = new URL(`api/admin/${path}`, this.base);
    let response: ApiResponse;
    try {
      response = await apiRequest(url, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined && { "content-type": "application/json" }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        ...(this.ca !== undefined && { ca: this.ca }),
        timeoutMs: 30_000,
      });
    } catch (error) {
      throw new AdminApiError(0, `cannot reach the gateway at ${url.origin}: ${(error as Error).message}`);
    }
    const text = response.text;
    if (response.status < 200 || response.status > 299) {
      let message = text;
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        // not JSON: the body as it is
      }
      throw new AdminApiError(response.status, `${method} ${url.pathname}: ${response.status} ${message}`);
    }
    return (text === "" ? undefined : JSON.parse(text)) as T;
  }
}
