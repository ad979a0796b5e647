// The hoopgate construct library for cdktf (DESIGN.md §6).

export { escapeTerraformTemplate } from "./escape.js";
export { HoopPolicyBundle, type HoopPolicyBundleProps, type BundleSigningKey, type BundleVerificationKey } from "./policy-bundle.js";
export {
  HoopIdentityProvider,
  GITHUB_ACTIONS_ISSUER,
  type HoopIdentityProviderProps,
  type GitHubActionsProviderProps,
} from "./identity-provider.js";
export {
  HoopConnection,
  type HoopConnectionProps,
  type HoopConnectionKind,
  type HoopConnectionCredentials,
  type ConnectionConfigEntry,
} from "./connection.js";
export { HoopGateway, type HoopGatewayProps, type HoopGatewayTls } from "./gateway.js";
export type { GatewayConfigDocument, GatewayPorts } from "./gateway-config.js";
export type { PolicyStatement } from "./iam.js";
