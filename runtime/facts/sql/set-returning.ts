// Set-returning functions in an upsert's VALUES: called in a VALUES item (outside a subquery),
// one expands the row into many (`VALUES (generate_series(1, 1000000), 'x')`, `VALUES (unnest(…),
// 'x')`), which matters to an upsert's has_where (where.ts). Which functions return sets is in
// the catalog, not in the text, so a call counts as possibly set-returning unless it is one of
// SCALAR_BUILTINS (PostgreSQL builtins returning one value, called unqualified or as
// `pg_catalog.name`): an extension's function (hstore's `skeys`, PostGIS's `ST_Dump`) or a
// user's is not known. SET_RETURNING_BUILTINS is the other side, for the record and the tests:
// PostgreSQL 15's functions with proretset (pg_catalog's and information_schema's
// `_pg_expandarray`), plus pg_catalog's added up to 18; no name is on both lists.

export const SET_RETURNING_BUILTINS: ReadonlySet<string> = new Set([
  "aclexplode", "generate_series", "generate_subscripts",
  "json_array_elements", "json_array_elements_text", "json_each", "json_each_text", "json_object_keys",
  "json_populate_recordset", "json_to_recordset",
  "jsonb_array_elements", "jsonb_array_elements_text", "jsonb_each", "jsonb_each_text", "jsonb_object_keys",
  "jsonb_path_query", "jsonb_path_query_tz", "jsonb_populate_recordset", "jsonb_to_recordset",
  "pg_available_extension_versions", "pg_available_extensions", "pg_config", "pg_cursor",
  "pg_event_trigger_ddl_commands", "pg_event_trigger_dropped_objects", "pg_extension_update_paths",
  "pg_get_backend_memory_contexts", "pg_get_catalog_foreign_keys", "pg_get_keywords", "pg_get_multixact_members",
  "pg_get_publication_tables", "pg_get_replication_slots", "pg_get_shmem_allocations", "pg_get_wal_resource_managers",
  "pg_hba_file_rules", "pg_ident_file_mappings", "pg_listening_channels", "pg_lock_status",
  "pg_logical_slot_get_binary_changes", "pg_logical_slot_get_changes", "pg_logical_slot_peek_binary_changes",
  "pg_logical_slot_peek_changes", "pg_ls_archive_statusdir", "pg_ls_dir", "pg_ls_logdir", "pg_ls_logicalmapdir",
  "pg_ls_logicalsnapdir", "pg_ls_replslotdir", "pg_ls_tmpdir", "pg_ls_waldir", "pg_mcv_list_items",
  "pg_options_to_table", "pg_partition_ancestors", "pg_partition_tree", "pg_prepared_statement", "pg_prepared_xact",
  "pg_show_all_file_settings", "pg_show_all_settings", "pg_show_replication_origin_status", "pg_snapshot_xip",
  "pg_stat_get_activity", "pg_stat_get_backend_idset", "pg_stat_get_progress_info", "pg_stat_get_recovery_prefetch",
  "pg_stat_get_slru", "pg_stat_get_subscription", "pg_stat_get_wal_senders", "pg_tablespace_databases",
  "pg_timezone_abbrevs", "pg_timezone_names", "regexp_matches", "regexp_split_to_table", "string_to_table",
  "ts_debug", "ts_parse", "ts_stat", "ts_token_type", "txid_snapshot_xip", "unnest",
  // information_schema
  "_pg_expandarray",
  // PostgreSQL 16–18
  "pg_stat_get_io", "pg_get_wait_events", "pg_ls_summariesdir", "pg_available_wal_summaries", "pg_wal_summary_contents",
  "pg_get_loaded_modules", "pg_get_aios", "pg_get_shmem_allocations_numa", "pg_stat_get_backend_io",
]);

/**
 * PostgreSQL builtins (pg_catalog) that return one value whatever their arguments: the ones an
 * application puts in an INSERT's VALUES (time, ids and sequences, text, JSON, arrays, numbers,
 * text search). A name here is trusted only unqualified or qualified by pg_catalog; a user's
 * function of the same name that the call resolves to (other argument types, or a schema ahead of
 * pg_catalog in search_path) is not seen (docs/sql-facts.md).
 */
export const SCALAR_BUILTINS: ReadonlySet<string> = new Set([
  "abs", "age", "array_append", "array_cat", "array_fill", "array_length", "array_lower", "array_position",
  "array_prepend", "array_remove", "array_replace", "array_to_json", "array_to_string", "array_upper", "ascii",
  "bit_length", "btrim", "cardinality", "cbrt", "ceil", "ceiling", "char_length", "chr", "cidr",
  "clock_timestamp", "concat", "concat_ws", "convert_from", "convert_to", "currval", "date_bin", "date_part",
  "date_trunc", "decode", "degrees", "div", "encode", "exp", "extract", "floor", "format", "gen_random_uuid",
  "host", "initcap", "isfinite", "json_build_array", "json_build_object", "json_extract_path",
  "json_extract_path_text", "json_object", "json_strip_nulls", "json_typeof", "jsonb_build_array",
  "jsonb_build_object", "jsonb_extract_path", "jsonb_extract_path_text", "jsonb_insert", "jsonb_object",
  "jsonb_pretty", "jsonb_set", "jsonb_set_lax", "jsonb_strip_nulls", "jsonb_typeof", "justify_days",
  "justify_hours", "justify_interval", "lastval", "left", "length", "ln", "log", "log10", "lower", "lpad",
  "ltrim", "make_date", "make_interval", "make_time", "make_timestamp", "make_timestamptz", "md5", "mod",
  "nextval", "now", "octet_length", "overlay", "phraseto_tsquery", "pi", "plainto_tsquery", "position", "power",
  "quote_ident", "quote_literal", "quote_nullable", "radians", "random", "regexp_replace", "regexp_substr",
  "repeat", "replace", "reverse", "right", "round", "row_to_json", "rpad", "rtrim", "setweight", "sha224",
  "sha256", "sha384", "sha512", "sign", "split_part", "sqrt", "starts_with", "statement_timestamp",
  "string_to_array", "strpos", "substr", "substring", "timeofday", "timezone", "to_char", "to_date", "to_hex",
  "to_json", "to_jsonb", "to_number", "to_timestamp", "to_tsquery", "to_tsvector", "transaction_timestamp",
  "translate", "trunc", "upper", "websearch_to_tsquery",
]);
