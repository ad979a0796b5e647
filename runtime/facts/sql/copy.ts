// `sql.copy`: the direction and endpoint of a COPY. A file name's value never matters, only its presence.

import type { CopyStmt } from "libpg-query";
import type { SqlCopyKind } from "../../schema/attributes.js";

export function copyKind(stmt: CopyStmt): SqlCopyKind {
  const endpoint = stmt.is_program ? "program" : stmt.filename !== undefined ? "file" : stmt.is_from ? "stdin" : "stdout";
  return `${stmt.is_from ? "from" : "to"}_${endpoint}` as SqlCopyKind;
}
