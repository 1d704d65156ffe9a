// The verifier's public surface: the gate programs load through, the verifier itself, and the
// pieces a caller needs to build its input or read its result.
export * from './gate.js';
export { verify, MAX_PROCESSED, type VerificationResult } from './verifier.js';
export { VerifierError, type RejectionReport, CATALOGUE } from './diagnostics.js';
export type { VerifierInput, VerifierOptions, MapReferenceInfo, SourceLine } from './env.js';
export type { RejectKind } from './reject.js';
export type { MapInfo } from './registers.js';
export { mapInfoOf, sourceLinesOf, verifierInputOf } from './program-input.js';
