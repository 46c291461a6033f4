/** metav1.Time as the apiserver writes it (second precision, UTC). */
export const timestamp = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
