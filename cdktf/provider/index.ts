// cdktf bindings for terraform-provider-hoopgate: a live gateway configured from a cdktf app.
export { HoopgateProvider, type HoopgateProviderConfig } from "./provider.js";
export { DataHoopgatePolicyBundle, type DataHoopgatePolicyBundleConfig } from "./policy-bundle.js";
export { HoopgateBundle, type HoopgateBundleConfig } from "./bundle.js";
export { HoopgateConnection, type HoopgateConnectionConfig } from "./connection.js";
export { HoopgateTokenIssuer, type HoopgateTokenIssuerConfig } from "./token-issuer.js";
export { HoopgateApprovalWebhook, type HoopgateApprovalWebhookConfig } from "./approval-webhook.js";
export { HOOPGATE_PROVIDER_SOURCE, HOOPGATE_PROVIDER_VERSION } from "./metadata.js";
