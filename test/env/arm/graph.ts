import { ArmError, type ArmResource, type Json } from "./world.ts";

/**
 * The part of Azure Resource Graph's query language (KQL) that the Azure drivers send: a filter on
 * resource types, on the resource group and on tag keys, and a projection. A query outside that
 * part is refused with Resource Graph's BadRequest, so a driver cannot pass against the loopback
 * server with a query Azure would read differently.
 */
export interface GraphQuery {
  readonly types: readonly string[];
  readonly resourceGroup: string | undefined;
  readonly tagKeys: readonly string[];
  readonly project: readonly string[];
}

const quoted = (s: string): string[] => [...s.matchAll(/'([^']*)'/g)].map((m) => m[1] ?? "");

export function parseQuery(query: string): GraphQuery {
  const stages = query
    .split("|")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (stages[0]?.toLowerCase() !== "resources") throw invalid(query, "the query must start with Resources");
  const types: string[] = [];
  let resourceGroup: string | undefined;
  const tagKeys: string[] = [];
  let project: string[] = [];
  for (const stage of stages.slice(1)) {
    let m: RegExpExecArray | null;
    if (/^where\s+type\s+=~/i.test(stage)) {
      if (!/^where(\s+(or\s+)?type\s+=~\s+'[^']*')+$/i.test(stage)) throw invalid(query, stage);
      types.push(...quoted(stage).map((t) => t.toLowerCase()));
    } else if ((m = /^where\s+resourceGroup\s+=~\s+'([^']*)'$/i.exec(stage))) {
      resourceGroup = m[1];
    } else if (/^extend\s+tagKeys\s*=\s*bag_keys\(tags\)$/i.test(stage)) {
      // tagKeys is computed per row below.
    } else if (/^where\s+tagKeys\s+has\s+/i.test(stage)) {
      if (!/^where\s+tagKeys\s+has\s+'[^']*'(\s+and\s+tagKeys\s+has\s+'[^']*')*$/i.test(stage)) {
        throw invalid(query, stage);
      }
      tagKeys.push(...quoted(stage));
    } else if ((m = /^project\s+([\w\s,]+)$/i.exec(stage))) {
      project = (m[1] ?? "").split(",").map((f) => f.trim());
    } else {
      throw invalid(query, stage);
    }
  }
  return { types, resourceGroup, tagKeys, project };
}

function invalid(query: string, stage: string): ArmError {
  return new ArmError(
    400,
    "BadRequest",
    `Please provide below info when asking for support: query ${JSON.stringify(query)}: unsupported stage "${stage}"`,
  );
}

/** The rows a query selects from the resources, in a stable order (by id). */
export function runQuery(q: GraphQuery, resources: readonly ArmResource[]): Json[] {
  // `has` matches whole terms, case-insensitively.
  const has = (keys: string[], term: string) => keys.some((k) => k.toLowerCase() === term.toLowerCase());
  return resources
    .filter((r) => q.types.length === 0 || q.types.includes(r.type.toLowerCase()))
    .filter(
      (r) => q.resourceGroup === undefined || r.resourceGroup.toLowerCase() === q.resourceGroup.toLowerCase(),
    )
    .filter((r) => q.tagKeys.every((t) => has(Object.keys(r.tags), t)))
    .sort((a, b) => (a.id.toLowerCase() < b.id.toLowerCase() ? -1 : 1))
    .map((r) => {
      const row: Json = {
        id: r.id,
        name: r.name,
        type: r.type.toLowerCase(),
        resourceGroup: r.resourceGroup.toLowerCase(),
        location: r.location,
        tags: r.tags,
        properties: r.properties,
      };
      return q.project.length === 0 ? row : Object.fromEntries(q.project.map((f) => [f, row[f] ?? null]));
    });
}
