/**
 * The public bootstrap module: the worker pool model, its renderers (cloud-config, Ignition, MIME
 * multipart), placeholder substitution, and the reader that sees user data as a booting node does.
 */
export { CLOUD_CONFIG_HEADER, renderCloudConfig } from "./cloud-config.ts";
export { IGNITION_VERSION, mergeIgnition, readIgnitionInput, renderIgnition } from "./ignition.ts";
export { BOOTSTRAP_TOKEN_PATTERN, type NodeJoin, type NodeTaint, nodeJoinOf } from "./join.ts";
export {
  BOOTSTRAP_API_VERSION,
  BootstrapInputError,
  parseWorkerPool,
  validateWorkerPool,
  WORKER_POOL_KIND,
  type WorkerPool,
  WorkerPoolSchema,
} from "./model.ts";
export { detectContentType, renderMultipart } from "./multipart.ts";
export { buildNodeConfig, type NodeConfig, nodeLabels } from "./node-config.ts";
export { NodePaths } from "./paths.ts";
export { hasTokenPlaceholder, substitutePlaceholders } from "./placeholders.ts";
export { decodeDataUrl, readUserData, type UserDataFormat, type UserDataView } from "./read.ts";
export {
  isUserDataFormat,
  renderWorkerUserData,
  USER_DATA_FORMATS,
  type UserDataFormatName,
} from "./render.ts";
export { loadTemplates, type Templates, TEMPLATES_DIR } from "./templates.ts";
