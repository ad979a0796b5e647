// What a resource or data source file declares: its schema and the functions that move the
// gateway to the planned values. Values arrive normalized to the schema and fully known
// (apply-time), except in `derive`, which sees the plan-time configuration.

import type { TfObject } from "../protocol/values.js";
import type { AdminClient } from "../client.js";
import type { BlockSpec, DiagnosticError } from "./types.js";

export interface ResourceDefinition {
  typeName: string;
  schema: BlockSpec;
  /** problems in the configuration, found before any plan (unknown values are skipped) */
  validate?(config: TfObject): DiagnosticError[];
  /** computed values known at plan time from the proposed values (see planResource); `config` tells what the configuration sets */
  derive?(proposed: TfObject, config: TfObject): TfObject;
  create(client: AdminClient, planned: TfObject): Promise<TfObject>;
  /** null when the object is gone (terraform then plans to create it again) */
  read(client: AdminClient, state: TfObject): Promise<TfObject | null>;
  update(client: AdminClient, planned: TfObject, prior: TfObject): Promise<TfObject>;
  delete(client: AdminClient, prior: TfObject): Promise<void>;
  /** the state `terraform import` starts from, before read fills it in */
  importState(id: string): TfObject;
}

export interface DataSourceDefinition {
  typeName: string;
  schema: BlockSpec;
  read(config: TfObject, context: { client: AdminClient | undefined }): Promise<TfObject>;
}
