import { join } from "node:path";
import { dump } from "js-yaml";
import { crdFor, KINDS } from "./crd.ts";
import { GROUP } from "./constants.ts";
import { renderApiReference } from "./reference.ts";

/** Files generated from src/api, relative to the repository root, with their content. */
export function generatedFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const def of KINDS) {
    const header = "# Generated from src/api by `npm run generate`; do not edit.\n";
    files.set(
      join("crds", `${GROUP}_${def.plural}.yaml`),
      header + dump(crdFor(def), { lineWidth: -1, noRefs: true }),
    );
  }
  files.set(join("docs", "reference", "api.md"), renderApiReference());
  return files;
}
