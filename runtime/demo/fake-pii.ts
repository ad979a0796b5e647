// Realistic but fake personal data for the demo database, generated from a seed so every run
// shows the same rows. Nothing here belongs to a real person: e-mail domains are the reserved
// example.* names, phone numbers are in the fictional 555-01xx range, card numbers are the
// card networks' published test numbers (they pass Luhn and are never issued), the IBAN is the
// standard documentation example.

import { seededRandom } from "../seeded-random.js";

const FIRST = ["Ada", "Bruno", "Chloé", "Dmitri", "Elif", "Farah", "Gustavo", "Hana", "Ivan", "Jia", "Kwame", "Lucía",
  "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tomoko", "Umar", "Vera", "Wen", "Yusuf", "Zoe"];
const LAST = ["Almeida", "Becker", "Castillo", "Dubois", "Eriksen", "Fischer", "García", "Haddad", "Ivanova", "Jensen",
  "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor", "Petrov", "Quinn", "Rossi", "Schmidt", "Tanaka", "Usman",
  "Varga", "Weber", "Yilmaz", "Zhang"];
const CITIES = ["Lisbon", "Berlin", "Austin", "Lyon", "Oslo", "Toronto", "Osaka", "Lagos", "Kraków", "Seoul"];
const PLANS = ["free", "team", "business", "enterprise"];
const AREA_CODES = ["212", "312", "415", "512", "617", "206"];
const DOMAINS = ["example.com", "example.org", "example.net"];

/** Published test card numbers (Visa, Mastercard, Amex, Discover, JCB). */
export const TEST_CARDS = [
  { brand: "visa", number: "4111111111111111" },
  { brand: "visa", number: "4242424242424242" },
  { brand: "mastercard", number: "5555555555554444" },
  { brand: "mastercard", number: "5105105105105100" },
  { brand: "amex", number: "378282246310005" },
  { brand: "discover", number: "6011111111111117" },
  { brand: "visa", number: "4012888888881881" },
  { brand: "jcb", number: "3530111333300000" },
] as const;

export const EXAMPLE_IBAN = "GB82 WEST 1234 5698 7654 32";

export interface FakeCustomer {
  id: number;
  name: string;
  email: string;
  phone: string;
  dateOfBirth: string;
  city: string;
  plan: string;
  createdAt: string;
}

export interface FakeTicket {
  id: number;
  customerId: number;
  subject: string;
  body: string;
}

export interface FakePaymentMethod {
  id: number;
  customerId: number;
  brand: string;
  cardNumber: string;
  expires: string;
}

export interface FakeDataset {
  customers: FakeCustomer[];
  tickets: FakeTicket[];
  paymentMethods: FakePaymentMethod[];
}

const pad = (n: number, width = 2): string => String(n).padStart(width, "0");

function asciiFold(text: string): string {
  return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

export function fakeDataset(customers = 50, seed = 2024): FakeDataset {
  const next = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const out: FakeDataset = { customers: [], tickets: [], paymentMethods: [] };
  for (let id = 1; id <= customers; id++) {
    const first = pick(FIRST);
    const last = pick(LAST);
    out.customers.push({
      id,
      name: `${first} ${last}`,
      email: `${asciiFold(first)}.${asciiFold(last)}${id}@${pick(DOMAINS)}`,
      phone: `+1 ${pick(AREA_CODES)} 555 01${pad(Math.floor(next() * 100))}`,
      dateOfBirth: `${1950 + Math.floor(next() * 54)}-${pad(1 + Math.floor(next() * 12))}-${pad(1 + Math.floor(next() * 28))}`,
      city: pick(CITIES),
      plan: pick(PLANS),
      createdAt: `2024-${pad(1 + Math.floor(next() * 12))}-${pad(1 + Math.floor(next() * 28))}T${pad(Math.floor(next() * 24))}:00:00Z`,
    });
    const card = pick(TEST_CARDS);
    out.paymentMethods.push({
      id,
      customerId: id,
      brand: card.brand,
      cardNumber: card.number,
      expires: `${pad(1 + Math.floor(next() * 12))}/${28 + Math.floor(next() * 5)}`,
    });
  }
  const bodies = [
    (c: FakeCustomer) => `Hi, I cannot log in since yesterday. My account e-mail is ${c.email}.`,
    (c: FakeCustomer) => `Please charge my other card instead: ${out.paymentMethods[c.id - 1]?.cardNumber.replace(/(\d{4})(?=\d)/g, "$1 ")}`,
    () => `Refund to my bank account please, IBAN ${EXAMPLE_IBAN}.`,
    () => "The export to CSV times out for large reports.",
  ];
  const subjects = ["Login problem", "Change payment method", "Refund request", "Export is slow"];
  for (let id = 1; id <= customers; id++) {
    const kind = (id - 1) % bodies.length;
    const customer = out.customers[Math.floor(next() * customers)] as FakeCustomer;
    out.tickets.push({ id, customerId: customer.id, subject: subjects[kind] as string, body: (bodies[kind] as (c: FakeCustomer) => string)(customer) });
  }
  return out;
}
