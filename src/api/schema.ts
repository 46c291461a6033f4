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

/** A Go duration string such as 20m, 1h30m or 90s (metav1.Duration), checked by CEL at admission. */
export const GO_DURATION_PATTERN = "^[-+]?(0|(([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$";
export const Duration = (description: string): TUnsafe<string> =>
  Type.Unsafe<string>({
    type: "string",
    maxLength: 64,
    description: `${description} A duration such as 20m, 1h30m or 90s.`,
    ...cel({
      rule: `self.matches('${GO_DURATION_PATTERN.replace(/\\/g, "\\\\")}')`,
      message: "must be a duration such as 20m, 1h30m or 90s (units: ns, us, ms, s, m, h)",
    }),
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
export function intOrPercentRule(field: string): CelRule {
  const f = `self.${field}`;
  return {
    rule: `!has(${f}) || (type(${f}) == int ? int(${f}) >= 0 : string(${f}).matches('^[0-9]+%$'))`,
    message: `${field} must be a non-negative integer or a percentage such as 25%`,
    fieldPath: `.${field}`,
  };
}

/** resource.Quantity, e.g. 4, 500m, 16Gi. */
const QUANTITY_PATTERN =
  "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$";
export const Quantity = (): TUnsafe<number | string> => IntOrString({ pattern: QUANTITY_PATTERN });

export const ResourceList = (description: string) => Type.Record(Type.String(), Quantity(), { description });

export const StringMap = (description: string) => Type.Record(Type.String(), Type.String(), { description });

/**
 * Label keys and values. The bounds are Kubernetes' own label limits (a value is at most 63
 * characters); they also keep the cost of CEL rules over labels within the apiserver's budget.
 */
export const LabelMap = (description: string, maxProperties = 256) =>
  Type.Record(Type.String({ maxLength: 317 }), Type.String({ maxLength: 63 }), {
    description,
    maxProperties,
  });

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

/** metav1.LabelSelector. */
export const LabelSelector = (description: string) =>
  Type.Object(
    {
      matchExpressions: Type.Optional(
        Type.Array(
          Type.Object({
            key: Type.String({ description: "The label key the selector applies to." }),
            operator: Type.String({ description: "In, NotIn, Exists or DoesNotExist." }),
            values: Type.Optional(
              Type.Array(Type.String(), {
                description: "Values for In and NotIn; empty for Exists and DoesNotExist.",
                "x-kubernetes-list-type": "atomic",
              }),
            ),
          }),
          { description: "Label selector requirements, ANDed.", "x-kubernetes-list-type": "atomic" },
        ),
      ),
      matchLabels: Type.Optional(LabelMap("Labels that must all match.")),
    },
    { description, "x-kubernetes-map-type": "atomic" },
  );

/** Labels and annotations of an object template (ObjectMeta; other fields preserved). */
export const TemplateMetadata = (description: string) =>
  Type.Object(
    {
      labels: Type.Optional(LabelMap("Labels of the objects made from the template.")),
      annotations: Type.Optional(StringMap("Annotations of the objects made from the template.")),
      name: Type.Optional(Type.String({ description: "Name (ignored; names are generated)." })),
      namespace: Type.Optional(Type.String({ description: "Namespace (ignored; the owner's is used)." })),
    },
    { description, "x-kubernetes-preserve-unknown-fields": true },
  );

/** corev1.Taint. */
export const Taint = () =>
  Type.Object({
    effect: Type.String({ description: "NoSchedule, PreferNoSchedule or NoExecute." }),
    key: Type.String({ description: "The taint key." }),
    timeAdded: Type.Optional(Time("When a NoExecute taint was added.")),
    value: Type.Optional(Type.String({ description: "The taint value." })),
  });

/** corev1.NodeAddress. */
export const NodeAddress = () =>
  Type.Object({
    address: Type.String({ description: "The address." }),
    type: Type.String({ description: "Hostname, ExternalIP, InternalIP, ExternalDNS or InternalDNS." }),
  });
