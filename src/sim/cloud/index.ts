/**
 * The virtual cloud's client and wire types: what the virtual driver plugin uses, the way a cloud's
 * plugin uses that cloud's SDK.
 */
export { CloudCallError, CloudClient } from "./client.ts";
export * from "./types.ts";
