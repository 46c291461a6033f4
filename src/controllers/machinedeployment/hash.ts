import { Labels, UNROLLED_SPEC_FIELDS } from "../../api/constants.ts";
import type { MachineDeployment } from "../../api/v1alpha1/machinedeployment.ts";

type Template = NonNullable<MachineDeployment["spec"]>["template"];

function without<T>(
  obj: Readonly<Record<string, T>> | undefined,
  keys: readonly string[],
): Record<string, T> {
  return Object.fromEntries(Object.entries(obj ?? {}).filter(([k]) => !keys.includes(k)));
}

/** The part of a template that triggers a rollout when it changes (MCM's EqualIgnoreHash). */
function rolloutRelevant(template: Template | undefined): unknown {
  const labels = without(template?.metadata?.labels, [Labels.machineTemplateHash]);
  const spec: Record<string, unknown> = without(template?.spec, UNROLLED_SPEC_FIELDS);
  const cls = template?.spec?.class;
  if (cls) spec.class = { name: cls.name, apiGroup: cls.apiGroup };
  return { labels, annotations: template?.metadata?.annotations ?? {}, spec };
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Whether two templates differ only in what does not roll (hash label, node template, configuration, class kind). */
export const equalIgnoreHash = (a: Template | undefined, b: Template | undefined): boolean =>
  canonical(rolloutRelevant(a)) === canonical(rolloutRelevant(b));

function fnv32a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, "utf8")) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** apimachinery's rand.SafeEncodeString alphabet: no vowels, no look-alikes. */
const ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789";

/** The template hash (label machine-template-hash): FNV-32a of the template, safe-encoded, as MCM. */
export function templateHash(template: Template | undefined, collisionCount = 0): string {
  const text = canonical(rolloutRelevant(template)) + (collisionCount > 0 ? String(collisionCount) : "");
  return String(fnv32a(text)).replace(/\d/g, (c) => ALPHANUMS[c.charCodeAt(0) % ALPHANUMS.length] ?? "");
}

/** The template without the hash label (what a rollback copies back). */
export function withoutHash(template: Template): Template {
  const labels = without(template.metadata?.labels, [Labels.machineTemplateHash]);
  return { ...template, metadata: { ...template.metadata, labels } };
}
