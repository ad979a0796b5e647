// IAM policy documents as Terraform strings. Every statement allows; there are no wildcards
// unless a caller writes one, and the grants in this library never do.

import { terraformJson } from "./escape.js";

export interface PolicyStatement {
  actions: string[];
  resources: string[];
}

export function policyDocument(statements: readonly PolicyStatement[]): string {
  return terraformJson({
    Version: "2012-10-17",
    Statement: statements.map((s) => ({ Effect: "Allow", Action: s.actions, Resource: s.resources })),
  });
}

/** Trust policy letting an AWS service (e.g. `ecs-tasks.amazonaws.com`) assume the role. */
export function assumeRolePolicy(service: string): string {
  return terraformJson({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Principal: { Service: service } }],
  });
}
