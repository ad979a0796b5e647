export { startApi, type ApiDeps, type ApiServer, type ApiTls } from "./server.js";
export { createGatewayMetrics, type GatewayMetrics } from "./metrics.js";
export { openControlPlane, type ControlPlane, type ControlPlaneOptions } from "./control-plane.js";
