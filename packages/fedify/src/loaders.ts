import { getAuthenticatedDocumentLoader, type KvStore, kvCache } from "@fedify/fedify";
import {
  type AuthenticatedDocumentLoaderFactory,
  type DocumentLoaderFactory,
  getDocumentLoader,
} from "@fedify/vocab-runtime";
import { withMlsContext } from "./context.js";

export interface MlsLoaderOptions {
  /** Lets loopback peers federate (tests, development). Never in production. */
  readonly allowPrivateAddress?: boolean;
  /** Caches fetched documents and contexts in the federation's KV store. */
  readonly kv?: KvStore;
}

export interface MlsLoaderFactories {
  readonly documentLoaderFactory: DocumentLoaderFactory;
  readonly contextLoaderFactory: DocumentLoaderFactory;
  readonly authenticatedDocumentLoaderFactory: AuthenticatedDocumentLoaderFactory;
}

/**
 * The three loader factories for `createFederation`, each answering the MLS context from memory. All three
 * are given because Fedify refuses `allowPrivateAddress` next to a custom factory, and verifies the signing
 * keys of personal-inbox deliveries with the authenticated loader.
 */
export function mlsLoaderFactories(options: MlsLoaderOptions = {}): MlsLoaderFactories {
  const allowPrivateAddress = options.allowPrivateAddress ?? false;
  const { kv } = options;
  // The MLS context is answered from memory before the KV cache is asked (a read per JSON-LD parse otherwise).
  // Fedify asks for a loader per request context, always with the same options; building one (kvCache
  // compiles its URL patterns) was an eighth of a C2S post's CPU, so each is built once per options.
  const loaders = new Map<string, ReturnType<DocumentLoaderFactory>>();
  const cached: DocumentLoaderFactory = (factoryOptions) => {
    const key = JSON.stringify(factoryOptions ?? {});
    let loader = loaders.get(key);
    if (loader === undefined) {
      const plain = getDocumentLoader({ ...factoryOptions, allowPrivateAddress });
      loader = withMlsContext(kv === undefined ? plain : kvCache({ loader: plain, kv }));
      loaders.set(key, loader);
    }
    return loader;
  };
  return {
    documentLoaderFactory: cached,
    contextLoaderFactory: cached,
    authenticatedDocumentLoaderFactory: (identity, factoryOptions) =>
      withMlsContext(getAuthenticatedDocumentLoader(identity, { ...factoryOptions, allowPrivateAddress })),
  };
}
