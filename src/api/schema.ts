import { type SchemaOptions, type TUnsafe, Type } from "@sinclair/typebox";

/**
 * Schema building blocks shared by the machine.sapcloud.io kinds. Each schema is both the source of
 * the CRD's OpenAPI (via crd.ts) and of the TypeScript type (TypeBox's Static).
 */

/** A CEL rule in x-kubernetes-validations. */
export interface CelRule {
  readonly rule: string;
  readonly message?: string;
  readonly messageExpression?: string;
  readonly fieldPath?: string;
  readonly reason?:
    "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate";
}

/** A CEL string literal of text. */
export const celString = (text: string): string => `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;

export function cel(...rules: CelRule[]): { "x-kubernetes-validations": CelRule[] } {
  return { "x-kubernetes-validations": rules };
}

/** A string restricted to a fixed set of values (an OpenAPI enum). */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: SchemaOptions = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: "string", enum: [...values], ...options });
}

/** A string whose known values are listed for readers but not enforced (written by controllers). */
export function OpenStringEnum<const T extends readonly string[]>(
  values: T,
  options: SchemaOptions = {},
): TUnsafe<T[number] | (string & {})> {
  const known = `One of: ${values.join(", ")}.`;
  const description = options.description ? `${options.description} ${known}` : known;
  return Type.Unsafe<T[number] | (string & {})>({ type: "string", ...options, description });
}

export const Int32 = (options: SchemaOptions = {}) => Type.Integer({ format: "int32", ...options });
export const Int64 = (options: SchemaOptions = {}) => Type.Integer({ format: "int64", ...options });

/** An RFC 3339 timestamp (metav1.Time). */
export const Time = (description: string): TUnsafe<string> =>
  Type.Unsafe<string>({ type: "string", format: "date-time", description });

/** A non-negative Go duration string such as 20m, 1h30m or 90s (metav1.Duration). */
export const GO_DURATION_PATTERN = "^[+]?(0|(([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$";

/**
 * A duration field, checked by CEL at admission: a non-negative Go duration and, with `positive`,
 * greater than zero. `why` says in the field's description why zero is refused.
 */
export const Duration = (description: string, positive?: { why: string }): TUnsafe<string> =>
  Type.Unsafe<string>({
    type: "string",
    maxLength: 64,
    description: positive
      ? `${description} A duration greater than zero such as 20m, 1h30m or 90s; zero is refused: ${positive.why}.`
      : `${description} A duration of zero or more such as 20m, 1h30m or 90s.`,
    ...cel(
      {
        rule: `self.matches(${celString(GO_DURATION_PATTERN)})`,
        message: "must be a duration of zero or more such as 20m, 1h30m or 90s (units: ns, us, ms, s, m, h)",
      },
      ...(positive
        ? [
            {
              rule: `!self.matches(${celString(GO_DURATION_PATTERN)}) || duration(self) > duration('0s')`,
              message: `must be greater than zero: ${positive.why}`,
            },
          ]
        : []),
    ),
  });

/** intstr.IntOrString: an integer or a string such as "25%". */
export const IntOrString = (options: SchemaOptions = {}): TUnsafe<number | string> =>
  Type.Unsafe<number | string>({
    anyOf: [{ type: "integer" }, { type: "string" }],
    "x-kubernetes-int-or-string": true,
    ...options,
  });

/** An integer or a percentage string such as "25%"; checked by intOrPercentRule on the parent object. */
export const IntOrPercent = (description: string): TUnsafe<number | string> =>
  IntOrString({ description: `${description} An integer or a percentage such as 25%.` });

/**
 * CEL for an IntOrPercent field, placed on the parent object (the apiserver does not accept CEL on
 * an int-or-string node itself).
 */
export function intOrPercentRule(field: string, maxPercent?: number): CelRule {
  const f = `self.${field}`;
  const percent = `string(${f}).matches('^[0-9]+%$')`;
  const bounded =
    maxPercent === undefined ? percent : `${percent} && int(string(${f}).replace('%', '')) <= ${maxPercent}`;
  const most = maxPercent === undefined ? "" : ` of at most ${maxPercent}%`;
  return {
    rule: `!has(${f}) || (type(${f}) == int ? int(${f}) >= 0 : ${bounded})`,
    message: `${field} must be a non-negative integer or a percentage${most} such as 25%`,
    fieldPath: `.${field}`,
  };
}

/** resource.Quantity, e.g. 4, 500m, 16Gi. */
const QUANTITY_PATTERN =
  "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$";
export const Quantity = (): TUnsafe<number | string> => IntOrString({ pattern: QUANTITY_PATTERN });

export const ResourceList = (description: string) => Type.Record(Type.String(), Quantity(), { description });

/** A nested object kept whole: unknown fields are preserved (runtime.RawExtension and friends). */
export const Opaque = (description: string): TUnsafe<Record<string, unknown>> =>
  Type.Unsafe<Record<string, unknown>>({
    type: "object",
    "x-kubernetes-preserve-unknown-fields": true,
    description,
  });

/** corev1.SecretReference. */
export const SecretReference = (description: string) =>
  Type.Object(
    {
      name: Type.Optional(Type.String({ description: "Name of the Secret." })),
      namespace: Type.Optional(
        Type.String({ description: "Namespace of the Secret; defaults to the object's." }),
      ),
    },
    { description, "x-kubernetes-map-type": "atomic" },
  );

/** corev1.NodeAddress. */
export const NodeAddress = () =>
  Type.Object({
    address: Type.String({ description: "The address." }),
    type: Type.String({ description: "Hostname, ExternalIP, InternalIP, ExternalDNS or InternalDNS." }),
  });
