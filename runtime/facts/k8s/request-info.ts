// Kubernetes request facts (DESIGN.md §2, k8s.*), resolved the way the API server's
// RequestInfoFactory (k8s.io/apiserver/pkg/endpoints/request) does, so that a policy sees the
// verb, resource and name the API server will authorize.

import type { K8sFacts } from "../types.js";
import { fieldSelectorExactMatch } from "./field-selector.js";

/** The path cannot be resolved safely; the proxy answers 400 and forwards nothing. */
export class InvalidRequestPathError extends Error {
  override name = "InvalidRequestPathError";
}

const API_PREFIXES = new Set(["api", "apis"]);
const GROUPLESS_PREFIXES = new Set(["api"]);
/** `/api/v1/watch/…` and `/api/v1/proxy/…`: the verb is in the path. */
const SPECIAL_VERBS = new Set(["proxy", "watch"]);
const SPECIAL_VERBS_WITHOUT_SUBRESOURCE = new Set(["proxy"]);
/** `/api/v1/namespaces/NS/status` is the namespace's own subresource, not a resource inside it. */
const NAMESPACE_SUBRESOURCES = new Set(["status", "finalize"]);

const VERB_BY_METHOD: Record<string, string> = {
  POST: "create",
  GET: "get",
  HEAD: "get",
  PUT: "update",
  PATCH: "patch",
  DELETE: "delete",
};

/**
 * @param path the request path as sent (percent-encoded, without the query string)
 * @param query the query string's parameters
 * @throws InvalidRequestPathError when the path is not a clean absolute path
 */
export function requestInfo(method: string, path: string, query: URLSearchParams = new URLSearchParams()): K8sFacts {
  const parts = pathSegments(path);
  const nonResource: K8sFacts = { verb: method.toLowerCase() };
  if (parts.length < 3 || !API_PREFIXES.has(parts[0]!)) return nonResource;

  const prefix = parts.shift()!;
  let group: string | undefined;
  if (!GROUPLESS_PREFIXES.has(prefix)) {
    if (parts.length < 3) return nonResource;
    group = parts.shift()!;
  }
  parts.shift(); // the version

  let verb: string;
  if (SPECIAL_VERBS.has(parts[0]!)) {
    if (parts.length < 2) throw new InvalidRequestPathError(`unable to determine kind and namespace from ${path}`);
    verb = parts.shift()!;
  } else {
    verb = VERB_BY_METHOD[method] ?? "";
  }

  let namespace: string | undefined;
  let rest = parts;
  if (parts[0] === "namespaces" && parts.length > 1) {
    namespace = parts[1]!;
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) rest = parts.slice(2);
  }

  const resource = rest[0];
  let name = rest[1];
  const subresource = rest.length >= 3 && !SPECIAL_VERBS_WITHOUT_SUBRESOURCE.has(verb) ? rest[2] : undefined;

  if (!name && verb === "get") {
    const list = listOptions(query);
    verb = list.watch ? "watch" : "list";
    name = list.name;
  }
  if (!name && verb === "delete") verb = "deletecollection";

  return withoutEmpty({ verb, resource, subresource, namespace, name, group });
}

/** Decoded segments of the path, as Go's URL.Path split on "/" after trimming slashes. */
function pathSegments(path: string): string[] {
  if (!path.startsWith("/")) throw new InvalidRequestPathError(`request path must start with "/": ${JSON.stringify(path)}`);
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    throw new InvalidRequestPathError(`request path has a malformed percent-encoding: ${JSON.stringify(path)}`);
  }
  const trimmed = decoded.replace(/^\/+|\/+$/g, "");
  if (trimmed === "") return [];
  const segments = trimmed.split("/");
  // HTTP clients and proxies may resolve dot segments on the way upstream; the API server would
  // then act on a different path than the one decided here.
  if (segments.some((s) => s === "." || s === "..")) {
    throw new InvalidRequestPathError(`request path has "." or ".." segments: ${JSON.stringify(path)}`);
  }
  return segments;
}

interface ListOptions {
  watch: boolean;
  /** metadata.name pinned by an exact-match field selector */
  name?: string;
}

const INTEGER_PARAMS = ["limit", "timeoutSeconds"];

/**
 * The part of ListOptions that RequestInfo reads. When the API server cannot decode the
 * parameters it forgets them all but `watch`; an integer parameter that is not one, or a
 * field selector that does not parse, is such a failure.
 */
function listOptions(query: URLSearchParams): ListOptions {
  const watchValue = query.get("watch");
  const watch = watchValue !== null && !["false", "0"].includes(watchValue.toLowerCase());
  if (INTEGER_PARAMS.some((p) => query.has(p) && !/^[+-]?\d+$/.test(query.get(p)!))) return { watch };
  // A label selector that fails to parse would also drop the name; without a label-selector
  // parser here, a name pinned next to one is not taken (the request counts as a plain list).
  if (query.has("labelSelector")) return { watch };
  const selector = query.get("fieldSelector");
  if (selector === null) return { watch };
  const name = fieldSelectorExactMatch(selector, "metadata.name");
  return name !== undefined && isValidPathSegmentName(name) ? { watch, name } : { watch };
}

function isValidPathSegmentName(name: string): boolean {
  return name !== "." && name !== ".." && !name.includes("/") && !name.includes("%");
}

function withoutEmpty(facts: K8sFacts): K8sFacts {
  const out: K8sFacts = { verb: facts.verb };
  for (const key of ["resource", "subresource", "namespace", "name", "group"] as const) {
    const value = facts[key];
    if (value) out[key] = value;
  }
  return out;
}
