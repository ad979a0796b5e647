// What the demo shows: the support agent of examples/saas-postgres on the production app
// database. The policy names its issuer "https://auth.acme-saas.dev"; in the demo that issuer's
// keys are served by the local dev issuer, so the demo mints the agent's tokens itself.

export const DEMO_POLICY_DIR = "examples/saas-postgres";
export const DEMO_CONNECTION = "app-db";
export const DEMO_ISSUER = "https://auth.acme-saas.dev";
export const DEMO_AUDIENCE = "hoopgate";

export const DEMO_IDENTITY = {
  sub: "support-agent@prod",
  claims: { client_id: "support-agent", env: "prod" },
  /** the PostgreSQL user name shown in the psql line; the identity comes from the token */
  user: "support-agent",
};

export type DemoOutcome = "allowed" | "masked" | "blocked";

export interface DemoStatement {
  outcome: DemoOutcome;
  sql: string;
  why: string;
}

export const DEMO_STATEMENTS: readonly DemoStatement[] = [
  {
    outcome: "allowed",
    sql: "SELECT id, name, city, plan FROM customers ORDER BY id LIMIT 3;",
    why: "support-reads-customers allows SELECT on customers and tickets",
  },
  {
    outcome: "masked",
    sql: "SELECT name, email, phone, date_of_birth FROM customers ORDER BY id LIMIT 3;",
    why: "email keeps its last 4 characters, phone is redacted, date_of_birth comes back NULL (a date cannot hold [REDACTED])",
  },
  {
    outcome: "blocked",
    sql: "SELECT * FROM payment_methods;",
    why: "payment data is out of scope for support (SQLSTATE 42501)",
  },
];
