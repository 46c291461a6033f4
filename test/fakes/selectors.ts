/** Label and field selectors in their string form, as the apiserver reads them from a query. */

type Requirement = (labels: Readonly<Record<string, string>>) => boolean;

/** Splits on commas outside parentheses. */
function terms(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of selector) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur.trim());
      cur = "";
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out.filter(Boolean);
}

function requirement(term: string): Requirement {
  const set = /^(\S+)\s+(in|notin)\s+\((.*)\)$/.exec(term);
  if (set) {
    const [, key = "", op, list = ""] = set;
    const values = list.split(",").map((v) => v.trim());
    return op === "in"
      ? (l) => Object.hasOwn(l, key) && values.includes(l[key] ?? "")
      : (l) => !Object.hasOwn(l, key) || !values.includes(l[key] ?? "");
  }
  const ne = /^([^!=\s]+)\s*!=\s*(.*)$/.exec(term);
  if (ne) return (l) => l[ne[1] ?? ""] !== ne[2];
  const eq = /^([^!=\s]+)\s*==?\s*(.*)$/.exec(term);
  if (eq) return (l) => l[eq[1] ?? ""] === eq[2];
  if (term.startsWith("!")) return (l) => !Object.hasOwn(l, term.slice(1));
  return (l) => Object.hasOwn(l, term);
}

/** A label selector string (`a=b,c!=d,e in (f,g),!h`) as a predicate; empty matches everything. */
export function labelMatcher(selector: string | undefined): Requirement {
  const reqs = terms(selector ?? "").map(requirement);
  return (labels) => reqs.every((r) => r(labels));
}

/** A field selector string (`spec.nodeName=x,metadata.name!=y`) as a predicate over an object. */
export function fieldMatcher(selector: string | undefined): (obj: unknown) => boolean {
  const reqs = terms(selector ?? "").map((term) => {
    const m = /^([^!=]+)(!=|==|=)(.*)$/.exec(term);
    if (!m) throw new Error(`field selector term ${JSON.stringify(term)} is not path=value`);
    const [, path = "", op, value] = m;
    return (obj: unknown): boolean => {
      const actual = fieldAt(obj, path.trim());
      return op === "!=" ? actual !== value : actual === value;
    };
  });
  return (obj) => reqs.every((r) => r(obj));
}

function fieldAt(obj: unknown, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split(".")) {
    if (typeof cur !== "object" || cur === null) return "";
    cur = (cur as Record<string, unknown>)[part];
  }
  return typeof cur === "string" || typeof cur === "number" || typeof cur === "boolean" ? String(cur) : "";
}
