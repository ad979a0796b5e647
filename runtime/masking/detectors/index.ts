import type { DetectorName } from "../../schema/attributes.js";
import { awsAccessKey } from "./aws-access-key.js";
import { awsSecretKey } from "./aws-secret-key.js";
import { creditCard } from "./credit-card.js";
import { email } from "./email.js";
import { iban } from "./iban.js";
import { jwt } from "./jwt.js";
import { phone } from "./phone.js";
import { privateKey } from "./private-key.js";
import type { Detector } from "./types.js";
import { usSsn } from "./us-ssn.js";

export const DETECTOR_BY_NAME: Readonly<Record<DetectorName, Detector>> = {
  email,
  credit_card: creditCard,
  us_ssn: usSsn,
  iban,
  aws_access_key: awsAccessKey,
  aws_secret_key: awsSecretKey,
  jwt,
  private_key: privateKey,
  phone,
};
