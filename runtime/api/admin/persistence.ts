// Where admin changes are kept. One small interface so the gateway's store can take over;
// until then a JSON file in the gateway's state directory, replaced atomically on each change.

import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { emptyAdminDocument, type AdminDocument } from "./document.js";

export interface AdminPersistence {
  /** where the data lives, for logs and errors */
  readonly location: string;
  load(): Promise<AdminDocument>;
  save(document: AdminDocument): Promise<void>;
  /** where several gateways share the data: calls back when any of them saved; returns the unsubscribe */
  watch?(onChange: () => void): Promise<() => Promise<void>>;
}

export function jsonFileAdminPersistence(path: string): AdminPersistence {
  return {
    location: path,
    async load() {
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return emptyAdminDocument();
        throw error;
      }
      let parsed: Partial<AdminDocument>;
      try {
        parsed = JSON.parse(text) as Partial<AdminDocument>;
      } catch (error) {
        // Fail closed: a damaged file must not silently drop connections or issuers.
        throw new Error(`admin state ${path} is not valid JSON: ${(error as Error).message}`);
      }
      return { ...emptyAdminDocument(), ...parsed };
    },
    async save(document) {
      await mkdir(dirname(path), { recursive: true });
      const temp = `${path}.${process.pid}.tmp`;
      await writeFile(temp, `${JSON.stringify(document, null, 2)}\n`, { mode: 0o600 });
      await rename(temp, path);
    },
  };
}
