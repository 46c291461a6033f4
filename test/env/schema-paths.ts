import type { JsonSchema } from "../../src/api/crd.ts";

/** Every property path of a structural schema with its type ("integer/int32", "int-or-string", …). */
export function schemaPaths(
  schema: JsonSchema,
  path = "",
  out = new Map<string, string>(),
): Map<string, string> {
  const declared = typeof schema.type === "string" ? schema.type : "any";
  const type = schema["x-kubernetes-int-or-string"] ? "int-or-string" : declared;
  const format = typeof schema.format === "string" ? `/${schema.format}` : "";
  out.set(path || "/", type + format);
  for (const [key, child] of Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>)) {
    schemaPaths(child, `${path}.${key}`, out);
  }
  if (schema.items) schemaPaths(schema.items as JsonSchema, `${path}[]`, out);
  if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
    schemaPaths(schema.additionalProperties as JsonSchema, `${path}{}`, out);
  }
  return out;
}
