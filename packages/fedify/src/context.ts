import type { DocumentLoader, RemoteDocument } from "@fedify/vocab-runtime";
import { MLS_CONTEXT } from "@sotto/core";

const AS_OBJECT = "https://www.w3.org/ns/activitystreams#Object";

/**
 * The MLS context document as Fedify's JSON-LD processing sees it, wrapped in `{"@context": ...}` (the spec
 * repository's own files lack that key) and served from memory so that expansion never needs the network.
 * The five MLS object types are mapped onto `as:Object`: Fedify's vocabulary cannot register new types and
 * refuses to parse an activity whose object has only an unknown type. This only changes how Fedify reads a
 * document; the JSON stored and forwarded keeps its own `type`.
 */
export const mlsContextDocument = {
  "@context": {
    mls: "https://purl.archive.org/socialweb/mls#",
    PublicMessage: AS_OBJECT,
    PrivateMessage: AS_OBJECT,
    Welcome: AS_OBJECT,
    GroupInfo: AS_OBJECT,
    KeyPackage: AS_OBJECT,
    keyPackages: { "@id": "mls:keyPackages", "@type": "@id" },
    messages: { "@id": "mls:messages", "@type": "@id" },
    conversation: { "@id": "mls:conversation", "@type": "@id" },
    encoding: "mls:encoding",
    ciphersuite: "mls:ciphersuite",
  },
} as const;

/** Wraps a document loader so that it answers the MLS context from memory. */
export function withMlsContext(loader: DocumentLoader): DocumentLoader {
  return (url, options): Promise<RemoteDocument> => {
    if (url === MLS_CONTEXT || url === `${MLS_CONTEXT}/` || url === `${MLS_CONTEXT}.jsonld`) {
      return Promise.resolve({ contextUrl: null, documentUrl: url, document: mlsContextDocument });
    }
    return loader(url, options);
  };
}
