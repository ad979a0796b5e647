// Field selectors (`metadata.name=x,status.phase!=Running`) as k8s.io/apimachinery/pkg/fields
// parses them: terms split on unescaped commas, operators `!=`, `==`, `=`, and `\` escaping
// `\`, `,` and `=` in values.

/**
 * The value `field` must equal for the selector to match (a `field=value` or `field==value`
 * term), or undefined when there is none or the selector does not parse.
 */
export function fieldSelectorExactMatch(selector: string, field: string): string | undefined {
  const terms = splitTerms(selector);
  if (!terms) return undefined;
  let match: string | undefined;
  // The API server sorts the terms before looking for the first exact match.
  for (const term of terms.sort()) {
    if (term === "") continue;
    const parsed = parseTerm(term);
    if (!parsed) return undefined;
    if (match === undefined && parsed.field === field && parsed.op !== "!=") match = parsed.value;
  }
  return match;
}

/** Splits on commas not escaped by a backslash; undefined on a dangling backslash. */
function splitTerms(selector: string): string[] | undefined {
  const terms: string[] = [];
  let current = "";
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i]!;
    if (c === "\\") {
      if (i + 1 >= selector.length) return undefined;
      current += c + selector[++i];
    } else if (c === ",") {
      terms.push(current);
      current = "";
    } else {
      current += c;
    }
  }
  terms.push(current);
  return terms;
}

function parseTerm(term: string): { field: string; op: string; value: string } | undefined {
  const m = /^(.*?)(!=|==|=)(.*)$/s.exec(term);
  if (!m) return undefined;
  const [, field, op, raw] = m;
  const value = unescapeValue(raw!);
  if (value === undefined) return undefined;
  return { field: field!, op: op!, value };
}

/** Only `\\`, `\,` and `\=` are valid escapes; an unescaped `,` or `=` in a value is an error. */
function unescapeValue(raw: string): string | undefined {
  let out = "";
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === "\\") {
      const next = raw[i + 1];
      if (next !== "\\" && next !== "," && next !== "=") return undefined;
      out += next;
      i++;
    } else if (c === "=" || c === ",") {
      return undefined;
    } else {
      out += c;
    }
  }
  return out;
}
