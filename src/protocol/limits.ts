/** The platform's limits. Each is Lambda's own where Lambda has one. */

/** Synchronous Invoke request body. */
export const MAX_SYNC_REQUEST_BYTES = 6_291_456;
/** An asynchronous (Event) invocation's payload: 1 MiB, Lambda's limit since late 2025. */
export const MAX_ASYNC_REQUEST_BYTES = 1_048_576;
/** Synchronous response body (6 MiB + 100 bytes, as Lambda accepts). */
export const MAX_SYNC_RESPONSE_BYTES = 6_291_556;
/**
 * A streamed response (InvokeWithResponseStream, function URLs in RESPONSE_STREAM mode): 20 MiB,
 * Lambda's default. It bounds the whole stream; each frame of it is bounded by MAX_FRAME_BYTES.
 */
export const MAX_STREAMED_RESPONSE_BYTES = 20 * 1024 * 1024;
/** A zip uploaded in the CreateFunction / UpdateFunctionCode body. */
export const MAX_ZIP_BYTES = 50 * 1024 * 1024;
/** All files of a package once unzipped. */
export const MAX_UNZIPPED_BYTES = 250 * 1024 * 1024;
/** Files in one package: beyond this, extraction time alone is a denial of service. */
export const MAX_ZIP_ENTRIES = 20_000;
/** The JSON body of a control-plane request that carries a base64 zip (50 MB zip → ~70 MB). */
export const MAX_CONTROL_BODY_BYTES = Math.ceil((MAX_ZIP_BYTES * 4) / 3) + 64 * 1024;
export const MIN_MEMORY_MB = 128;
export const MAX_MEMORY_MB = 10_240;
export const DEFAULT_MEMORY_MB = 128;
/** EphemeralStorage.Size: the size of /tmp (MB), as Lambda bounds it. */
export const MIN_EPHEMERAL_STORAGE_MB = 512;
export const MAX_EPHEMERAL_STORAGE_MB = 10_240;
export const DEFAULT_EPHEMERAL_STORAGE_MB = 512;
export const MIN_TIMEOUT_S = 1;
export const MAX_TIMEOUT_S = 900;
export const DEFAULT_TIMEOUT_S = 3;
/** All environment variable names and values together. */
export const MAX_ENV_BYTES = 4096;
/** Decoded `X-Amz-Client-Context`. */
export const MAX_CLIENT_CONTEXT_BYTES = 3583;
/** The `X-Amz-Log-Result` tail. */
export const LOG_TAIL_BYTES = 4096;
/** Init phase of an on-demand instance. */
export const DEFAULT_INIT_TIMEOUT_MS = 10_000;
export const MAX_FUNCTION_NAME_LENGTH = 64;
export const MAX_DESCRIPTION_LENGTH = 256;
/** Lambda's limits on a function's tags. */
export const MAX_TAGS_PER_FUNCTION = 50;
export const MAX_TAG_KEY_LENGTH = 128;
export const MAX_TAG_VALUE_LENGTH = 256;
export const MAX_HANDLER_LENGTH = 128;
/** Lambda gives one vCPU per 1,769 MB of memory. */
export const MB_PER_VCPU = 1769;
