export { createTokenVerifier, type TokenVerifier, type VerifierOptions } from "./verifier.js";
export { TokenError, type TokenErrorCode } from "./token-error.js";
export { DEFAULT_ALGORITHMS, SUPPORTED_ALGORITHMS, type TokenAlgorithm } from "./algorithms.js";
export { startDevIssuer, signDevToken, type DevIssuer, type DevIssuerOptions, type IssueOptions, type SignOptions } from "./dev-issuer.js";
export { generateDevKey, saveDevKey, loadDevKey, DEV_KEY_FILE, type DevKey } from "./dev-key.js";
