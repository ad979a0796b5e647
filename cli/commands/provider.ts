import { installProvider, PROVIDER_SOURCE, PROVIDER_VERSION } from "../../terraform/install.js";
import { parse, UsageError } from "../args.js";

export const summary = "install DIR: the Terraform provider as a filesystem mirror (terraform init -plugin-dir=DIR)";

export async function run(argv: string[]): Promise<number> {
  const { positionals } = parse(argv, {});
  if (positionals[0] !== "install" || positionals.length !== 2) throw new UsageError("usage: hoopgate provider install DIR");
  let launcher: string;
  try {
    launcher = await installProvider(positionals[1]!);
  } catch (error) {
    process.stderr.write(`hoopgate provider: ${(error as Error).message}\n`);
    return 2;
  }
  process.stderr.write(`✓ ${PROVIDER_SOURCE} ${PROVIDER_VERSION}: ${launcher}\n  terraform init -plugin-dir=${positionals[1]}\n`);
  return 0;
}
