// The demo schema (the tables examples/saas-postgres talks about) filled with fake PII.

import type { PGlite } from "@electric-sql/pglite";
import { fakeDataset } from "./fake-pii.js";

const SCHEMA = `
create table customers (
  id            integer primary key,
  name          text not null,
  email         text not null,
  phone         text,
  date_of_birth date,
  city          text,
  plan          text not null,
  created_at    timestamptz not null
);
create table tickets (
  id          integer primary key,
  customer_id integer not null references customers (id),
  subject     text not null,
  body        text not null
);
create table payment_methods (
  id          integer primary key,
  customer_id integer not null references customers (id),
  brand       text not null,
  card_number text not null,
  expires     text not null
);`;

export async function seedDemoDatabase(db: PGlite): Promise<{ customers: number }> {
  const data = fakeDataset();
  await db.exec(SCHEMA);
  await db.transaction(async (tx) => {
    for (const c of data.customers) {
      await tx.query(
        "insert into customers values ($1, $2, $3, $4, $5, $6, $7, $8)",
        [c.id, c.name, c.email, c.phone, c.dateOfBirth, c.city, c.plan, c.createdAt],
      );
    }
    for (const t of data.tickets) {
      await tx.query("insert into tickets values ($1, $2, $3, $4)", [t.id, t.customerId, t.subject, t.body]);
    }
    for (const p of data.paymentMethods) {
      await tx.query("insert into payment_methods values ($1, $2, $3, $4, $5)", [p.id, p.customerId, p.brand, p.cardNumber, p.expires]);
    }
  });
  return { customers: data.customers.length };
}
