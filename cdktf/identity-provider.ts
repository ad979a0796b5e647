// HoopIdentityProvider: a token issuer the gateway trusts (DESIGN.md §5 `issuers`). It makes
// no AWS resources; the gateway's config is generated from it.

import { Token } from "cdktf";
import { Construct } from "constructs";

export interface HoopIdentityProviderProps {
  /** exact `iss` of the tokens, an https URL */
  readonly issuer: string;
  /** accepted `aud` values; a token must carry one of them */
  readonly audience: string | string[];
  /** JWKS endpoint; default `ISSUER/.well-known/jwks.json` */
  readonly jwksUrl?: string;
}

export interface GitHubActionsProviderProps {
  /** the `audience` workflows request with `core.getIDToken(audience)`; default `hoopgate` */
  readonly audience?: string | string[];
}

export const GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com";

export class HoopIdentityProvider extends Construct {
  public readonly issuer: string;
  public readonly audience: string[];
  public readonly jwksUrl: string;

  /** GitHub Actions OIDC tokens (`permissions: id-token: write`). */
  public static githubActions(scope: Construct, id: string, props: GitHubActionsProviderProps = {}): HoopIdentityProvider {
    return new HoopIdentityProvider(scope, id, {
      issuer: GITHUB_ACTIONS_ISSUER,
      audience: props.audience ?? "hoopgate",
      jwksUrl: `${GITHUB_ACTIONS_ISSUER}/.well-known/jwks`,
    });
  }

  constructor(scope: Construct, id: string, props: HoopIdentityProviderProps) {
    super(scope, id);
    const where = `HoopIdentityProvider ${this.node.path}`;
    this.issuer = httpsUrl(props.issuer, `${where}: issuer`);
    this.audience = typeof props.audience === "string" ? [props.audience] : [...props.audience];
    if (this.audience.length === 0 || this.audience.some((a) => a === "")) {
      throw new Error(`${where}: audience must name at least one non-empty value`);
    }
    this.jwksUrl = httpsUrl(props.jwksUrl ?? `${this.issuer.replace(/\/$/, "")}/.well-known/jwks.json`, `${where}: jwksUrl`);
  }
}

function httpsUrl(value: string, what: string): string {
  if (Token.isUnresolved(value)) return value; // known only at apply time
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${what} ${JSON.stringify(value)} is not a URL`);
  }
  if (url.protocol !== "https:") throw new Error(`${what} ${JSON.stringify(value)} must use https`);
  return value;
}
