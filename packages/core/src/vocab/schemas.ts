// zod schemas of the MLS-over-ActivityPub vocabulary (spec §Vocabulary). They describe documents whose
// prefixed names were already normalized (see normalizeTerms); the envelope reader applies them after that.
import { z } from "zod";
import { readCiphersuite } from "./ciphersuite.js";

/** The five MLS object types, named as in RFC 9420's wire formats. */
export const MLS_OBJECT_TYPES = [
  "PublicMessage",
  "PrivateMessage",
  "Welcome",
  "GroupInfo",
  "KeyPackage",
] as const;
export type MlsObjectType = (typeof MLS_OBJECT_TYPES)[number];

export function isMlsObjectType(type: string): type is MlsObjectType {
  return (MLS_OBJECT_TYPES as readonly string[]).includes(type);
}

/** A link: an IRI string or an embedded node with an `id`. */
export const linkSchema = z.union([z.string().min(1), z.looseObject({ id: z.string().min(1) })]);
/** An addressing property: one link or many. */
export const audienceSchema = z.union([linkSchema, z.array(linkSchema)]);

/** `encoding`: the spec defines only base64 (its default). */
export const encodingSchema = z.literal("base64");

/** `ciphersuite`: a string name, a code point, or `{identifier, name}`; it must name a known suite. */
export const ciphersuiteSchema = z
  .union([
    z.string(),
    z.number().int(),
    z.looseObject({
      identifier: z.union([z.string(), z.number().int()]).optional(),
      name: z.string().optional(),
    }),
  ])
  .refine((value) => readCiphersuite(value) !== undefined, { message: "names no known MLS ciphersuite" });

/** `conversation`: the OrderedCollection of a group's messages, by IRI or embedded. */
export const conversationSchema = linkSchema;

/** `messages` on an actor: the collection of MLS activities it received, by IRI or embedded. */
export const messagesSchema = z.union([
  z.string().min(1),
  z.looseObject({ id: z.string().min(1), type: z.union([z.string(), z.array(z.string())]).optional() }),
]);

/** `keyPackages` on an actor: IRI, collection or page (embedded), array of links or objects, or one object. */
export const keyPackagesSchema = z.union([
  z.string().min(1),
  z.array(z.union([z.string().min(1), z.looseObject({})])),
  z.looseObject({}),
]);

const mediaTypeSchema = z
  .string()
  .refine((value) => value.split(";")[0]?.trim().toLowerCase() === "message/mls", {
    message: "must be message/mls",
  });

function typeSchema(name: MlsObjectType) {
  return z.union([
    z.literal(name),
    z.array(z.string()).refine((types) => types.includes(name), { message: `must include ${name}` }),
  ]);
}

const mlsObjectFields = {
  id: z.string().min(1).optional(),
  attributedTo: audienceSchema.optional(),
  to: audienceSchema.optional(),
  cc: audienceSchema.optional(),
  bto: audienceSchema.optional(),
  bcc: audienceSchema.optional(),
  audience: audienceSchema.optional(),
  mediaType: mediaTypeSchema.optional(),
  encoding: encodingSchema.optional(),
  content: z.string(),
  summary: z.string().optional(),
  context: linkSchema.optional(),
  conversation: conversationSchema.optional(),
  inReplyTo: linkSchema.optional(),
  generator: linkSchema.optional(),
  instrument: audienceSchema.optional(),
  published: z.string().optional(),
};

export const publicMessageSchema = z.looseObject({ ...mlsObjectFields, type: typeSchema("PublicMessage") });
export const privateMessageSchema = z.looseObject({ ...mlsObjectFields, type: typeSchema("PrivateMessage") });
export const welcomeSchema = z.looseObject({ ...mlsObjectFields, type: typeSchema("Welcome") });
export const groupInfoSchema = z.looseObject({ ...mlsObjectFields, type: typeSchema("GroupInfo") });
export const keyPackageSchema = z.looseObject({
  ...mlsObjectFields,
  type: typeSchema("KeyPackage"),
  ciphersuite: ciphersuiteSchema.optional(),
});

export const mlsObjectSchemas = {
  PublicMessage: publicMessageSchema,
  PrivateMessage: privateMessageSchema,
  Welcome: welcomeSchema,
  GroupInfo: groupInfoSchema,
  KeyPackage: keyPackageSchema,
} as const satisfies Record<MlsObjectType, z.ZodType>;
