import { type LabelSelector, selectorMatches } from "./selector.ts";

const OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist"];

function expressionProblem(e: unknown, at: string): string | undefined {
  const { operator, values } = (e ?? {}) as { operator?: unknown; values?: unknown };
  if (typeof operator !== "string" || !OPERATORS.includes(operator))
    return `${at}.operator ${JSON.stringify(operator)} is not one of ${OPERATORS.join(", ")}`;
  const n = Array.isArray(values) ? values.length : 0;
  if ((operator === "In" || operator === "NotIn") && n === 0)
    return `${at}.values must not be empty with operator ${operator}`;
  if ((operator === "Exists" || operator === "DoesNotExist") && n > 0)
    return `${at}.values must be empty with operator ${operator}`;
  return undefined;
}

/**
 * Why machines must not be created from a template under this selector, or undefined when they
 * may. Admission rejects all of these; objects stored before it did, or written past it, are
 * caught here, because a selector that does not select what the controller creates makes it
 * create for ever (each new object is not its own, so it is always short).
 */
export function selectorProblem(
  selector: LabelSelector | undefined,
  templateLabels: Readonly<Record<string, string>> | undefined,
): string | undefined {
  if (selector === undefined || selector === null)
    return "spec.selector is missing: set spec.selector.matchLabels to labels of spec.template.metadata.labels";
  const exprs: unknown = selector.matchExpressions ?? [];
  if (!Array.isArray(exprs)) return "spec.selector.matchExpressions is not a list";
  if (Object.keys(selector.matchLabels ?? {}).length === 0 && exprs.length === 0)
    return "spec.selector is empty and would select every machine of the namespace: set spec.selector.matchLabels";
  for (const [i, e] of exprs.entries()) {
    const problem = expressionProblem(e, `spec.selector.matchExpressions[${i}]`);
    if (problem) return problem;
  }
  if (!selectorMatches(selector, templateLabels))
    return "spec.selector does not select spec.template.metadata.labels: machines of this template would not count as its own; make the template's labels satisfy the selector";
  return undefined;
}
