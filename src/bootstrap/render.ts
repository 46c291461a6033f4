import { renderCloudConfig } from "./cloud-config.ts";
import { renderIgnition } from "./ignition.ts";
import { BootstrapInputError, type WorkerPool } from "./model.ts";
import { renderMultipart } from "./multipart.ts";
import { buildNodeConfig } from "./node-config.ts";
import type { Templates } from "./templates.ts";

export const USER_DATA_FORMATS = ["cloud-config", "ignition", "multipart"] as const;
export type UserDataFormatName = (typeof USER_DATA_FORMATS)[number];

export function isUserDataFormat(value: string): value is UserDataFormatName {
  return (USER_DATA_FORMATS as readonly string[]).includes(value);
}

/**
 * Renders a validated worker pool into user data of one format. The result still holds
 * <<BOOTSTRAP_TOKEN>> (and any <<MACHINE_NAME>> the pool uses) for the machine controller to fill
 * per machine. Input that only one format can use in another is an error naming the field.
 */
export function renderWorkerUserData(
  pool: WorkerPool,
  format: UserDataFormatName,
  templates: Templates,
): string {
  const config = buildNodeConfig(pool, templates);
  if (format !== "multipart" && pool.extra.parts.length > 0) {
    throw new BootstrapInputError(
      "extra.parts",
      `only the multipart format carries extra parts, not ${format}`,
    );
  }
  if (format !== "ignition" && pool.extra.ignition !== undefined) {
    throw new BootstrapInputError(
      "extra.ignition",
      `only the ignition format merges an Ignition config, not ${format}`,
    );
  }
  switch (format) {
    case "cloud-config":
      return renderCloudConfig(config, templates);
    case "ignition":
      return renderIgnition(config, pool.extra.ignition);
    case "multipart":
      return renderMultipart(renderCloudConfig(config, templates), pool.extra.parts);
  }
}
