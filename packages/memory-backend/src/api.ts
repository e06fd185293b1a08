export type {
  BackendCapabilities, BackendKind, BackendOptions, HeapViews, MemoryBackend, SharedBackendHandle,
} from '@hakmem/contracts';

/** Default `maxBytes` of both backends: 256 MiB. */
export const DEFAULT_MAX_BYTES = 256 << 20;
