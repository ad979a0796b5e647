import { describe, expect, it } from "vitest";
import { InvalidRequestPathError, requestInfo } from "../runtime/facts/k8s/index.js";
import type { K8sFacts } from "../runtime/facts/types.js";

// [method, path with optional query, expected facts], as the API server's RequestInfo resolves them
const cases: Array<[string, string, K8sFacts]> = [
  ["GET", "/api/v1/namespaces/ns/pods/p/log", { verb: "get", resource: "pods", subresource: "log", namespace: "ns", name: "p" }],
  ["GET", "/api/v1/namespaces/ns/pods/p", { verb: "get", resource: "pods", namespace: "ns", name: "p" }],
  ["GET", "/api/v1/namespaces/ns/pods", { verb: "list", resource: "pods", namespace: "ns" }],
  ["GET", "/api/v1/pods", { verb: "list", resource: "pods" }],
  ["GET", "/api/v1/namespaces/ns/pods?watch=true", { verb: "watch", resource: "pods", namespace: "ns" }],
  ["GET", "/api/v1/namespaces/ns/pods?watch=1&resourceVersion=10", { verb: "watch", resource: "pods", namespace: "ns" }],
  ["GET", "/api/v1/namespaces/ns/pods?watch=false", { verb: "list", resource: "pods", namespace: "ns" }],
  ["GET", "/api/v1/watch/namespaces/ns/pods/p", { verb: "watch", resource: "pods", namespace: "ns", name: "p" }],
  ["GET", "/apis/apps/v1/namespaces/ns/deployments", { verb: "list", resource: "deployments", namespace: "ns", group: "apps" }],
  ["POST", "/apis/apps/v1/namespaces/ns/deployments", { verb: "create", resource: "deployments", namespace: "ns", group: "apps" }],
  ["PUT", "/apis/apps/v1/namespaces/ns/deployments/web/scale", { verb: "update", resource: "deployments", subresource: "scale", namespace: "ns", name: "web", group: "apps" }],
  ["PATCH", "/apis/apps/v1/namespaces/ns/deployments/web", { verb: "patch", resource: "deployments", namespace: "ns", name: "web", group: "apps" }],
  ["DELETE", "/api/v1/namespaces/ns/secrets/s", { verb: "delete", resource: "secrets", namespace: "ns", name: "s" }],
  ["DELETE", "/api/v1/namespaces/ns/secrets", { verb: "deletecollection", resource: "secrets", namespace: "ns" }],
  ["POST", "/api/v1/namespaces/ns/pods/p/exec?command=sh", { verb: "create", resource: "pods", subresource: "exec", namespace: "ns", name: "p" }],
  ["HEAD", "/api/v1/nodes/n1", { verb: "get", resource: "nodes", name: "n1" }],
  ["GET", "/api/v1/namespaces", { verb: "list", resource: "namespaces" }],
  ["GET", "/api/v1/namespaces/kube-system", { verb: "get", resource: "namespaces", namespace: "kube-system", name: "kube-system" }],
  ["PUT", "/api/v1/namespaces/ns/finalize", { verb: "update", resource: "namespaces", subresource: "finalize", namespace: "ns", name: "ns" }],
  ["GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles/admin", { verb: "get", resource: "clusterroles", name: "admin", group: "rbac.authorization.k8s.io" }],
  ["GET", "/api/v1/namespaces/ns/secrets?fieldSelector=metadata.name%3Dtoken", { verb: "list", resource: "secrets", namespace: "ns", name: "token" }],
  ["GET", "/api/v1/namespaces/ns/secrets?fieldSelector=metadata.name%3D%3Dtoken%2Ctype%3Dx", { verb: "list", resource: "secrets", namespace: "ns", name: "token" }],
  ["GET", "/api/v1/namespaces/ns/secrets?fieldSelector=metadata.name!%3Dtoken", { verb: "list", resource: "secrets", namespace: "ns" }],
  ["GET", "/api/v1/namespaces/ns/secrets?fieldSelector=metadata.name%3Da%3Db", { verb: "list", resource: "secrets", namespace: "ns" }],
  ["GET", "/api/v1/namespaces/ns/secrets?fieldSelector=metadata.name%3Dtoken&limit=x", { verb: "list", resource: "secrets", namespace: "ns" }],
  ["GET", "/api/v1/namespaces/ns/secrets?watch=yes&limit=x", { verb: "watch", resource: "secrets", namespace: "ns" }],
  ["GET", "/api/v1/namespaces/ns/services/web:80/proxy/metrics", { verb: "get", resource: "services", subresource: "proxy", namespace: "ns", name: "web:80" }],
  ["GET", "/api/v1/proxy/namespaces/ns/pods/p/admin", { verb: "proxy", resource: "pods", namespace: "ns", name: "p" }],
  ["GET", "/api/v1/namespaces/a%2Fb/pods", { verb: "get", resource: "b", namespace: "a", name: "pods" }],
  ["OPTIONS", "/api/v1/pods", { verb: "" , resource: "pods" }],
  // non-resource URLs: the verb is the lowercase method
  ["GET", "/healthz", { verb: "get" }],
  ["GET", "/api", { verb: "get" }],
  ["GET", "/api/v1", { verb: "get" }],
  ["GET", "/apis/apps/v1", { verb: "get" }],
  ["POST", "/openapi/v3", { verb: "post" }],
  ["GET", "/", { verb: "get" }],
];

describe("requestInfo", () => {
  it.each(cases)("%s %s", (method, target, want) => {
    const url = new URL(target, "https://kube.invalid");
    const rawPath = target.split("?")[0]!;
    expect(requestInfo(method, rawPath, url.searchParams)).toEqual(want);
  });

  it("takes no query as an empty one", () => {
    expect(requestInfo("GET", "/api/v1/pods")).toEqual({ verb: "list", resource: "pods" });
  });

  it.each([
    ["api/v1/pods", /must start with/],
    ["/api/v1/namespaces/%zz/pods", /percent-encoding/],
    ["/api/v1/namespaces/ns/pods/../secrets", /"\." or "\.\." segments/],
    ["/api/v1/namespaces/ns/%2e%2e/secrets", /"\." or "\.\." segments/],
    ["/api/v1/watch", /unable to determine kind and namespace/],
  ])("rejects %s", (path, message) => {
    expect(() => requestInfo("GET", path)).toThrow(InvalidRequestPathError);
    expect(() => requestInfo("GET", path)).toThrow(message);
  });
});
