export { startApi, type ApiDeps, type ApiServer } from "./server.js";
export { createGatewayMetrics, type GatewayMetrics } from "./metrics.js";
