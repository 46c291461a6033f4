import { type SchemaOptions, Type } from "@sinclair/typebox";
import { cel, type CelRule, celString, StringEnum } from "./schema.ts";

/**
 * Kubernetes' rules for label and annotation keys, label values, taints and label selectors, as
 * patterns (for code) and as CEL (for the CRDs). The bounds keep the cost of every CEL rule within
 * the apiserver's budget: a rule over a map or list is estimated at its largest allowed size.
 */

/** An RFC 1123 DNS label (length checked separately). */
export const DNS_LABEL_PATTERN = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS_LABEL = DNS_LABEL_PATTERN;
/** The name part of a qualified name (at most 63 characters, checked separately). */
export const QUALIFIED_NAME_PATTERN = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
/** A label or annotation key: an optional DNS subdomain prefix and `/`, then a name. */
export const LABEL_KEY_PATTERN = `^(${DNS_LABEL}(\\.${DNS_LABEL})*/)?${QUALIFIED_NAME_PATTERN}$`;
/** A label value: empty, or alphanumerics, `-`, `_` and `.` starting and ending alphanumeric. */
export const LABEL_VALUE_PATTERN = `^(${QUALIFIED_NAME_PATTERN})?$`;
/** Length limits of a key: prefix at most 253 characters, name at most 63. */
const KEY_LENGTHS_PATTERN = "^([^/]{1,253}/)?[^/]{1,63}$";

export const LABEL_KEY_MAX_LENGTH = 317;
export const LABEL_VALUE_MAX_LENGTH = 63;

export const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;
export const SELECTOR_OPERATORS = ["In", "NotIn", "Exists", "DoesNotExist"] as const;

const KEY_HINT =
  "an optional DNS subdomain prefix of at most 253 characters and '/', then a name of at most 63 alphanumerics, '-', '_' or '.' that starts and ends with an alphanumeric, e.g. example.com/role";
const VALUE_HINT =
  "at most 63 alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric (or empty)";

const isKey = (v: string) =>
  `${v}.matches(${celString(LABEL_KEY_PATTERN)}) && ${v}.matches(${celString(KEY_LENGTHS_PATTERN)})`;

/** CEL on a string: a qualified name (label, annotation or taint key). */
export function keyRule(what: string): CelRule {
  return { rule: isKey("self"), message: `must be a valid ${what}: ${KEY_HINT}` };
}

/** CEL on a map: every key is a qualified name. */
export function mapKeysRule(what: string): CelRule {
  return { rule: `self.all(k, ${isKey("k")})`, message: `every ${what} must be valid: ${KEY_HINT}` };
}

/** A label value, checked by CEL with a message saying what is allowed. */
export const LabelValue = (options: SchemaOptions = {}) =>
  Type.String({
    maxLength: LABEL_VALUE_MAX_LENGTH,
    ...options,
    ...cel({
      rule: `self.matches(${celString(LABEL_VALUE_PATTERN)})`,
      message: `must be a valid label value: ${VALUE_HINT}`,
    }),
  });

/** Labels: qualified-name keys, label values. maxProperties bounds the cost of the rules over them. */
export const LabelMap = (description: string, maxProperties = 256) =>
  Type.Record(Type.String({ maxLength: LABEL_KEY_MAX_LENGTH }), LabelValue(), {
    description,
    maxProperties,
    ...cel(mapKeysRule("label key")),
  });

/** Annotations: qualified-name keys, any values. */
export const AnnotationMap = (description: string, maxProperties = 256) =>
  Type.Record(Type.String({ maxLength: LABEL_KEY_MAX_LENGTH }), Type.String(), {
    description,
    maxProperties,
    ...cel(mapKeysRule("annotation key")),
  });

/** corev1.Taint. */
export const Taint = () =>
  Type.Object({
    effect: StringEnum(TAINT_EFFECTS, { description: "NoSchedule, PreferNoSchedule or NoExecute." }),
    key: Type.String({
      maxLength: LABEL_KEY_MAX_LENGTH,
      description: "The taint key, a qualified name such as example.com/dedicated.",
      ...cel(keyRule("taint key")),
    }),
    timeAdded: Type.Optional(
      Type.Unsafe<string>({
        type: "string",
        format: "date-time",
        description: "When a NoExecute taint was added.",
      }),
    ),
    value: Type.Optional(LabelValue({ description: "The taint value, a label value." })),
  });

/** metav1.LabelSelectorRequirement, with Kubernetes' rules for operators and values. */
const SelectorRequirement = Type.Object(
  {
    key: Type.String({
      maxLength: LABEL_KEY_MAX_LENGTH,
      description: "The label key the selector applies to.",
      ...cel(keyRule("label key")),
    }),
    operator: StringEnum(SELECTOR_OPERATORS, { description: "In, NotIn, Exists or DoesNotExist." }),
    values: Type.Optional(
      Type.Array(LabelValue(), {
        description: "Values for In and NotIn (at least one); empty for Exists and DoesNotExist.",
        maxItems: 64,
        "x-kubernetes-list-type": "atomic",
      }),
    ),
  },
  cel(
    {
      rule: "!(self.operator in ['In', 'NotIn']) || (has(self.values) && size(self.values) > 0)",
      message: "values must name at least one value when operator is In or NotIn",
      fieldPath: ".values",
      reason: "FieldValueRequired",
    },
    {
      rule: "!(self.operator in ['Exists', 'DoesNotExist']) || !has(self.values) || size(self.values) == 0",
      message: "values must be empty when operator is Exists or DoesNotExist",
      fieldPath: ".values",
      reason: "FieldValueForbidden",
    },
  ),
);

/** metav1.LabelSelector. */
export const LabelSelector = (description: string) =>
  Type.Object(
    {
      matchExpressions: Type.Optional(
        Type.Array(SelectorRequirement, {
          description: "Label selector requirements, ANDed (at most 32).",
          maxItems: 32,
          "x-kubernetes-list-type": "atomic",
        }),
      ),
      matchLabels: Type.Optional(LabelMap("Labels that must all match.", 64)),
    },
    { description, "x-kubernetes-map-type": "atomic" },
  );

/** Labels and annotations of an object template (ObjectMeta; other fields preserved). */
export const TemplateMetadata = (description: string) =>
  Type.Object(
    {
      labels: Type.Optional(LabelMap("Labels of the objects made from the template.")),
      annotations: Type.Optional(AnnotationMap("Annotations of the objects made from the template.")),
      name: Type.Optional(Type.String({ description: "Name (ignored; names are generated)." })),
      namespace: Type.Optional(Type.String({ description: "Namespace (ignored; the owner's is used)." })),
    },
    { description, "x-kubernetes-preserve-unknown-fields": true },
  );
