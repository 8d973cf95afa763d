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
  const cached: DocumentLoaderFactory = (factoryOptions) => {
    const loader = getDocumentLoader({ ...factoryOptions, allowPrivateAddress });
    return withMlsContext(kv === undefined ? loader : kvCache({ loader, kv }));
  };
  return {
    documentLoaderFactory: cached,
    contextLoaderFactory: cached,
    authenticatedDocumentLoaderFactory: (identity, factoryOptions) =>
      withMlsContext(getAuthenticatedDocumentLoader(identity, { ...factoryOptions, allowPrivateAddress })),
  };
}
