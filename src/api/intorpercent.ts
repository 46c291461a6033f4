/** An int-or-percent value (maxSurge, maxUnavailable, maxReplacements) resolved against a total. */
export function resolveIntOrPercent(
  value: number | string | undefined,
  total: number,
  roundUp: boolean,
  fallback: number | string,
): number {
  const v = value ?? fallback;
  if (typeof v === "number") return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) return Number.parseInt(v, 10) || 0;
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}
