import { Placeholders } from "../api/constants.ts";

/**
 * Substitutes <<BOOTSTRAP_TOKEN>> and <<MACHINE_NAME>> in user data, as MCM does: plain, and
 * URL-encoded (Ignition data URLs) with the value URL-encoded.
 */
export function substitutePlaceholders(userData: string, token: string, machineName: string): string {
  const pairs: [string, string][] = [
    [Placeholders.bootstrapToken, token],
    [Placeholders.machineName, machineName],
  ];
  let out = userData;
  for (const [placeholder, value] of pairs) {
    out = out.split(placeholder).join(value);
    out = out.split(encodeURIComponent(placeholder)).join(encodeURIComponent(value));
  }
  return out;
}

/** True when user data still holds the bootstrap-token placeholder (plain or URL-encoded). */
export function hasTokenPlaceholder(userData: string): boolean {
  return (
    userData.includes(Placeholders.bootstrapToken) ||
    userData.includes(encodeURIComponent(Placeholders.bootstrapToken))
  );
}
