import { loadConfig } from "../../runtime/config/index.js";
import { startGateway } from "../../runtime/gateway/index.js";
import { parse, UsageError } from "../args.js";
import { untilSignal } from "../signals.js";

export const summary = "run the gateway (--config gateway.yaml) until SIGINT or SIGTERM";

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { config: { type: "string", short: "c" } });
  if (values.config === undefined) throw new UsageError("--config FILE is required");
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const gateway = await startGateway(await loadConfig(values.config));
  const signal = await untilSignal();
  gateway.logger.info({ signal }, "stopping");
  await gateway.close();
  return 0;
}
