/**
 * The bodies API Gateway sends for an HTTP API's own refusals (an authorizer's, the throttle's),
 * in one place so every module answers in the same words, byte for byte.
 */

export const UNAUTHORIZED_BODY = '{"message":"Unauthorized"}';
export const FORBIDDEN_BODY = '{"message":"Forbidden"}';
export const TOO_MANY_REQUESTS_BODY = '{"message":"Too Many Requests"}';
export const INTERNAL_ERROR_BODY = '{"message":"Internal Server Error"}';
export const NOT_FOUND_BODY = '{"message":"Not Found"}';
