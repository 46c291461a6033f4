import { Placeholders } from "../api/constants.ts";

/**
 * Substitutes <<BOOTSTRAP_TOKEN>> and <<MACHINE_NAME>> in user data, as MCM does: plain, and
 * URL-encoded (Ignition data URLs) with the value URL-encoded.
 */
export function substitutePlaceholders(userData: string, token: string, machineName: string): string {
  return fillPlaceholder(
    fillPlaceholder(userData, Placeholders.bootstrapToken, token),
    Placeholders.machineName,
    machineName,
  );
}

/** Substitutes one placeholder, plain and URL-encoded. */
export function fillPlaceholder(userData: string, placeholder: string, value: string): string {
  return userData
    .split(placeholder)
    .join(value)
    .split(encodeURIComponent(placeholder))
    .join(encodeURIComponent(value));
}

/** True when user data still holds the bootstrap-token placeholder (plain or URL-encoded). */
export function hasTokenPlaceholder(userData: string): boolean {
  return (
    userData.includes(Placeholders.bootstrapToken) ||
    userData.includes(encodeURIComponent(Placeholders.bootstrapToken))
  );
}
