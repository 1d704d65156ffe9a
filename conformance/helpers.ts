// The helper table the bpf_conformance suite expects (SOURCE.md "Runtime conventions"): helper 5
// returns its first argument, and stops the program when that argument is 0 (uBPF's "unwind").
import { helperTable, type HelperTable } from '../helpers/table.js';

/** Helpers available to conformance programs. */
export const CONFORMANCE_HELPERS: HelperTable = helperTable([
  {
    id: 5,
    name: 'conformance_unwind',
    proto: { ret: 'integer', args: ['anything'] },
    impl(call) {
      call.returnBigInt(call.arg(1));
      if (call.arg(1) === 0n) call.stopRequested = true;
    },
  },
]);
