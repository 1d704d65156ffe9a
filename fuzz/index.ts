// The differential fuzzer (issue 3): a program generator over the opcode table, a two-engine
// comparison, campaigns, minimization and `.data` regressions. The command line is run.ts.
export { Prng } from './prng.js';
export { EXCLUDED_ROWS, GENERATED_ROWS } from './rows.js';
export { ECHO_HELPER, generateProgram, type GeneratorOptions } from './generator.js';
export type { Atom, FuzzProgram } from './program.js';
export {
  Differential, Lane, STACK_BLOCK_BYTES, compareOutcomes, engineNamed,
  type Comparison, type Divergence, type DivergencePart, type EngineUnderTest, type Outcome, type RunError,
} from './differential.js';
export { foldMemoryIntoR0, minimize, removeAtoms } from './minimize.js';
export { investigate, programSeed, runCampaign, type CampaignOptions, type CampaignReport, type Found } from './campaign.js';
export { regressionText, writeRegression, type Regression } from './regression.js';
