// The provider's HTTP client for the gateway's admin API (`/api/admin/…`), authenticated with
// the provider's `token` as a bearer token.

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
  ) {
    try {
      this.base = new URL(endpoint.endsWith("/") ? endpoint : `${endpoint}/`);
    } catch {
      throw new DiagnosticError("endpoint is not a URL", `got ${JSON.stringify(endpoint)}; expected e.g. http://127.0.0.1:18080`, ["endpoint"]);
    }
    if (this.base.protocol !== "http:" && this.base.protocol !== "https:") {
      throw new DiagnosticError("endpoint must be an http(s) URL", `got ${this.base.protocol}`, ["endpoint"]);
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
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined && { "content-type": "application/json" }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
      throw new AdminApiError(0, `cannot reach the gateway at ${url.origin}: ${cause}`);
    }
    const text = await response.text();
    if (!response.ok) {
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
