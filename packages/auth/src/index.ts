export * from "./principal.js";
export * from "./token-verifier.js";
export * from "./auth-env.js";
export * from "./hs256-fast-path.js";
export * from "./verified-token-cache.js";
export * from "./service-token.js";
