// Stable diagnostic codes. HG0xxx syntax (dsl/), HG1xxx names and structure, HG2xxx types
// and expressions, HG3xxx warnings. Documented in docs/diagnostics.md;
// a code never changes meaning once released.

export const Code = {
  // names and structure
  DuplicateName: "HG1001",
  UnknownKey: "HG1002",
  MissingKey: "HG1003",
  UnknownReference: "HG1004",
  WrongReferenceKind: "HG1005",
  NoFiles: "HG1006",
  // types and expressions
  UnknownAttribute: "HG2001",
  AttributeNotAvailable: "HG2002",
  UnknownEnumWord: "HG2003",
  OperatorType: "HG2004",
  ValueType: "HG2005",
  UnsafeRegex: "HG2006",
  InvalidRegex: "HG2007",
  InvalidColumn: "HG2008",
  InvalidNumber: "HG2009",
  // warnings
  ShadowedRule: "HG3001",
  UnusedGroup: "HG3002",
  PolicyMatchesNothing: "HG3003",
  TestCoversNothing: "HG3004",
} as const;

export type CodeValue = (typeof Code)[keyof typeof Code];
