// The verifier's public surface: today, the gate programs load through.
export * from './gate.js';
