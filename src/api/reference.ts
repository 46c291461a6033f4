import { crdFor, type JsonSchema, KINDS, toStructural } from "./crd.ts";
import { API_VERSION } from "./constants.ts";

interface Row {
  path: string;
  type: string;
  required: boolean;
  default: string;
  description: string;
}

function typeOf(s: JsonSchema): string {
  if (s["x-kubernetes-int-or-string"]) return "int or string";
  const type = typeof s.type === "string" ? s.type : "any";
  if (type === "array") return `[]${typeOf((s.items ?? {}) as JsonSchema)}`;
  if (type === "object" && s.additionalProperties)
    return `map[string]${typeOf(s.additionalProperties as JsonSchema)}`;
  if (Array.isArray(s.enum)) return `${type} (${s.enum.join(" \\| ")})`;
  return typeof s.format === "string" ? `${type} (${s.format})` : type;
}

function rows(s: JsonSchema, path: string, required: boolean, out: Row[]): void {
  if (path !== "") {
    out.push({
      path,
      type: typeOf(s),
      required,
      default: s.default === undefined ? "" : `\`${JSON.stringify(s.default)}\``,
      description:
        typeof s.description === "string" ? s.description.replace(/\s+/g, " ").replace(/\|/g, "\\|") : "",
    });
  }
  const req = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
  const props = (s.properties ?? {}) as Record<string, JsonSchema>;
  for (const [key, child] of Object.entries(props)) {
    if (path === "" && (key === "apiVersion" || key === "kind" || key === "metadata")) continue;
    rows(child, path === "" ? key : `${path}.${key}`, req.has(key), out);
  }
  if (s.items) rows(s.items as JsonSchema, `${path}[]`, false, out);
  const values = s.additionalProperties as JsonSchema | undefined;
  if (values?.properties) rows(values, `${path}{}`, false, out);
}

/** Rules written as CEL in the schema, with the field they guard. */
function celRules(s: JsonSchema, path: string, out: string[]): void {
  for (const rule of (s["x-kubernetes-validations"] ?? []) as { rule: string; message?: string }[]) {
    out.push(`| \`${path || "(object)"}\` | ${rule.message ?? ""} |`);
  }
  for (const [key, child] of Object.entries((s.properties ?? {}) as Record<string, JsonSchema>)) {
    celRules(child, path === "" ? key : `${path}.${key}`, out);
  }
  if (s.items) celRules(s.items as JsonSchema, `${path}[]`, out);
}

/** docs/reference/api.md: every field of every kind with type, default and description. */
export function renderApiReference(): string {
  const lines = [
    "# API reference: machine.sapcloud.io/v1alpha1",
    "",
    "Generated from the schemas in `src/api` by `npm run generate`; do not edit by hand.",
    "The JSON is that of Gardener's machine-controller-manager v0.62.1; sprout adds admission rules",
    "(listed per kind) and `status.labelSelector` for the scale subresource.",
    "",
  ];
  for (const def of KINDS) {
    const schema = toStructural(def.schema);
    const crd = crdFor(def) as { spec: { versions: { subresources?: object }[] } };
    const sub = Object.keys(crd.spec.versions[0]?.subresources ?? {});
    lines.push(`## ${def.kind}`, "");
    lines.push(`\`apiVersion: ${API_VERSION}\`, \`kind: ${def.kind}\`. Short name \`${def.shortName}\`.`);
    if (sub.length > 0) lines.push(`Subresources: ${sub.join(", ")}.`);
    lines.push("", typeof schema.description === "string" ? schema.description : "", "");
    lines.push("| Field | Type | Required | Default | Description |", "|---|---|---|---|---|");
    const out: Row[] = [];
    rows(schema, "", false, out);
    for (const r of out) {
      lines.push(
        `| \`${r.path}\` | ${r.type} | ${r.required ? "yes" : ""} | ${r.default} | ${r.description} |`,
      );
    }
    const rules: string[] = [];
    celRules(schema, "", rules);
    if (rules.length > 0) lines.push("", "Admission rules:", "", "| Field | Rule |", "|---|---|", ...rules);
    lines.push("");
  }
  return lines.join("\n");
}
