// What every AWS call of the gateway shares: a deadline, and errors described by the
// service's error name and HTTP status (never by request or response bodies).
// Importing this module does not load the SDK.

export const AWS_REQUEST_TIMEOUT_MS = 10_000;

/** Options for `client.send(command, …)`: abandon the call (retries included) after the deadline. */
export function awsCallOptions(): { abortSignal: AbortSignal } {
  return { abortSignal: AbortSignal.timeout(AWS_REQUEST_TIMEOUT_MS) };
}

/** `AccessDenied (HTTP 403): Access Denied`, `no answer within 10000 ms`, or the client-side error. */
export function describeAwsError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === "TimeoutError" || error.name === "AbortError") return `no answer within ${AWS_REQUEST_TIMEOUT_MS} ms`;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status === undefined ? `${error.name}: ${error.message}` : `${error.name} (HTTP ${status}): ${error.message}`;
}
