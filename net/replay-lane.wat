;; The replay lane's loops (net/replay-lane.ts): little-endian pcap records or pcapng enhanced packet
;; blocks, staged in guest memory, copied one at a time into an XDP frame and run through a
;; JIT-compiled program, whose PASS and DROP verdicts are counted here. Any other verdict, and any
;; record the datapath must look at itself, goes back to JavaScript. scripts/gen-replay-lane.mjs
;; compiles this file to net/replay-lane-module.ts.
(module
  (import "env" "memory" (memory 0))
  ;; The program's `run` export (jit/abi.ts): registers, r1 low and high, args in the register file,
  ;; frame pointer, packet, packet length, budget; r0's low half.
  (import "env" "run" (func $run (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  ;; Sets the manual clock to its base plus this many nanoseconds (RuntimeClock.setSince).
  (import "env" "tick" (func $tick (param f64)))

  ;; Set by JavaScript before a run of records.
  (global $registers (export "registers") (mut i32) (i32.const 0))
  (global $framePointer (export "framePointer") (mut i32) (i32.const 0))
  (global $budget (export "budget") (mut i32) (i32.const 0))
  ;; The frame's struct xdp_md, and its data (data_meta is data: a received frame has no metadata).
  (global $ctx (export "ctx") (mut i32) (i32.const 0))
  (global $data (export "data") (mut i32) (i32.const 0))
  ;; The longest packet the frame's linear part holds.
  (global $linear (export "linear") (mut i32) (i32.const 0))
  ;; The capture's snapshot length; pcap: nanoseconds per unit of its timestamps' fraction; pcapng:
  ;; the interface its packets are on, and the units a second of its timestamps holds.
  (global $snapLength (export "snapLength") (mut i32) (i32.const 0))
  (global $fractionScale (export "fractionScale") (mut i32) (i32.const 1))
  (global $interfaceId (export "interfaceId") (mut i32) (i32.const 0))
  (global $unitsPerSecond (export "unitsPerSecond") (mut i32) (i32.const 1000000))
  (global $nanosecondsPerUnit (export "nanosecondsPerUnit") (mut i32) (i32.const 1000))
  ;; 1 when PASS is counted here (the frame goes straight to the stack); else it goes back.
  (global $passHere (export "passHere") (mut i32) (i32.const 0))
  ;; 1 when the manual clock follows the capture from its first record's time.
  (global $clock (export "clock") (mut i32) (i32.const 0))
  (global $firstSeconds (export "firstSeconds") (mut f64) (f64.const 0))
  (global $firstNanoseconds (export "firstNanoseconds") (mut f64) (f64.const 0))
  (global $lastOffset (export "lastOffset") (mut f64) (f64.const 0))

  ;; What a run of records did: the records taken (the stopped one too, after a verdict or a trap),
  ;; their bytes, where the next record starts, the PASS and DROP counted and which came first
  ;; (0, 1 for DROP, 2 for PASS), r0 of the record stopped at, where that record begins and its
  ;; time, and the highest data_end written.
  (global $records (export "records") (mut i32) (i32.const 0))
  (global $bytes (export "bytes") (mut i32) (i32.const 0))
  (global $position (export "position") (mut i32) (i32.const 0))
  (global $passed (export "passed") (mut i32) (i32.const 0))
  (global $dropped (export "dropped") (mut i32) (i32.const 0))
  (global $firstCounted (export "firstCounted") (mut i32) (i32.const 0))
  (global $verdict (export "verdict") (mut i32) (i32.const 0))
  (global $last (export "last") (mut i32) (i32.const 0))
  (global $lastSeconds (export "lastSeconds") (mut f64) (f64.const 0))
  (global $lastNanoseconds (export "lastNanoseconds") (mut i32) (i32.const 0))
  (global $highestEnd (export "highestEnd") (mut i32) (i32.const 0))

;; Takes pcap records from `at` up to `end`, at most `max` of them. Returns why it stopped:
  ;; 0 `max` taken; 1 the next record is not whole before `end`; 2 the next record is one the
  ;; datapath decodes itself (see below); 3 the last record taken ended in `verdict`, which is
  ;; neither DROP nor a PASS counted here. A trap in the program leaves the record it ran on taken.
  (func (export "lane") (param $at i32) (param $end i32) (param $max i32) (result i32)
    (local $length i32)
    (local $nanoseconds i64)
    (call $begin (local.get $at))
    (loop $next
      (if (i32.ge_u (global.get $records) (local.get $max)) (then (return (i32.const 0))))
      (if (i32.lt_u (i32.sub (local.get $end) (local.get $at)) (i32.const 16)) (then (return (i32.const 1))))
      (local.set $length (i32.load offset=8 (local.get $at)))
      (if (i32.gt_u (local.get $length) (i32.sub (i32.sub (local.get $end) (local.get $at)) (i32.const 16)))
        (then (return (i32.const 1))))
      ;; Decoded by the datapath itself: a length the frame or the snapshot length refuses (see
      ;; $unusual), a fraction of a second of a second or more.
      (if (call $unusual (local.get $length)) (then (return (i32.const 2))))
      (local.set $nanoseconds
        (i64.mul (i64.extend_i32_u (i32.load offset=4 (local.get $at))) (i64.extend_i32_u (global.get $fractionScale))))
      (if (i64.ge_u (local.get $nanoseconds) (i64.const 1000000000)) (then (return (i32.const 2))))
      (global.set $last (local.get $at))
      (local.set $at (i32.add (local.get $at) (i32.add (local.get $length) (i32.const 16))))
      (global.set $position (local.get $at))
      (br_if $next (i32.eqz (call $frame
        (i32.add (global.get $last) (i32.const 16)) (local.get $length)
        (f64.convert_i32_u (i32.load (global.get $last))) (local.get $nanoseconds)))))
    (i32.const 3))

  ;; The same for the enhanced packet blocks of a little-endian pcapng section whose interface
  ;; `interfaceId` is its only one, with timestamps in `unitsPerSecond` (10^6 or 10^9) and no
  ;; offset. Any other block, and a packet block with options, the datapath decodes itself.
  (func (export "lanePcapng") (param $at i32) (param $end i32) (param $max i32) (result i32)
    (local $block i32)
    (local $length i32)
    (local $units i64)
    (call $begin (local.get $at))
    (loop $next
      (if (i32.ge_u (global.get $records) (local.get $max)) (then (return (i32.const 0))))
      (if (i32.lt_u (i32.sub (local.get $end) (local.get $at)) (i32.const 8)) (then (return (i32.const 1))))
      ;; An enhanced packet block (type 6) of at least 32 bytes, a multiple of 4, whole before `end`.
      (if (i32.ne (i32.load (local.get $at)) (i32.const 6)) (then (return (i32.const 2))))
      (local.set $block (i32.load offset=4 (local.get $at)))
      (if (i32.or (i32.and (local.get $block) (i32.const 3))
                  (i32.or (i32.lt_u (local.get $block) (i32.const 32)) (i32.gt_u (local.get $block) (i32.const 0x1000000))))
        (then (return (i32.const 2))))
      (if (i32.gt_u (local.get $block) (i32.sub (local.get $end) (local.get $at))) (then (return (i32.const 1))))
      ;; Its trailer agrees, its interface is ours, and the packet fills it (no options).
      (if (i32.ne (i32.load (i32.sub (i32.add (local.get $at) (local.get $block)) (i32.const 4))) (local.get $block))
        (then (return (i32.const 2))))
      (if (i32.ne (i32.load offset=8 (local.get $at)) (global.get $interfaceId)) (then (return (i32.const 2))))
      (local.set $length (i32.load offset=20 (local.get $at)))
      (if (call $unusual (local.get $length)) (then (return (i32.const 2))))
      (if (i32.ne (i32.add (i32.const 32) (i32.and (i32.add (local.get $length) (i32.const 3)) (i32.const -4))) (local.get $block))
        (then (return (i32.const 2))))
      (local.set $units
        (i64.or (i64.shl (i64.extend_i32_u (i32.load offset=12 (local.get $at))) (i64.const 32))
                (i64.extend_i32_u (i32.load offset=16 (local.get $at)))))
      (global.set $last (local.get $at))
      (local.set $at (i32.add (local.get $at) (local.get $block)))
      (global.set $position (local.get $at))
      (br_if $next (i32.eqz (call $frame
        (i32.add (global.get $last) (i32.const 28)) (local.get $length)
        (f64.convert_i64_u (i64.div_u (local.get $units) (i64.extend_i32_u (global.get $unitsPerSecond))))
        (i64.mul (i64.rem_u (local.get $units) (i64.extend_i32_u (global.get $unitsPerSecond)))
                 (i64.extend_i32_u (global.get $nanosecondsPerUnit)))))))
    (i32.const 3))

  ;; Clears a run of records' results.
  (func $begin (param $at i32)
    (global.set $records (i32.const 0))
    (global.set $bytes (i32.const 0))
    (global.set $passed (i32.const 0))
    (global.set $dropped (i32.const 0))
    (global.set $firstCounted (i32.const 0))
    (global.set $position (local.get $at)))

  ;; Whether a packet of `length` bytes is one the datapath takes itself: longer than the frame's
  ;; linear part (or the capture's limits: the reader's error), too short for an Ethernet header,
  ;; far over the snapshot length (the reader's error).
  (func $unusual (param $length i32) (result i32)
    (i32.or
      (i32.or (i32.gt_u (local.get $length) (global.get $linear)) (i32.lt_u (local.get $length) (i32.const 14)))
      (i32.and
        (i32.ne (global.get $snapLength) (i32.const 0))
        (i64.gt_u (i64.extend_i32_u (local.get $length))
          (i64.add (i64.add (i64.extend_i32_u (global.get $snapLength))
                            (i64.extend_i32_u (i32.shr_u (global.get $snapLength) (i32.const 1))))
                   (i64.const 64))))))

  ;; One record taken: the clock moved to its time, its packet copied into the frame, the program
  ;; run. Returns 0 for a verdict counted here, 3 for one the datapath carries out.
  (func $frame (param $packet i32) (param $length i32) (param $seconds f64) (param $nanoseconds i64) (result i32)
    (local $offset f64)
    (local $r0 i32)
    (global.set $lastSeconds (local.get $seconds))
    (global.set $lastNanoseconds (i32.wrap_i64 (local.get $nanoseconds)))
    ;; The clock follows the capture, never stepping back: the arithmetic replay() does, in doubles.
    (if (global.get $clock)
      (then
        (local.set $offset
          (f64.add
            (f64.mul (f64.sub (local.get $seconds) (global.get $firstSeconds)) (f64.const 1e9))
            (f64.sub (f64.convert_i64_u (local.get $nanoseconds)) (global.get $firstNanoseconds))))
        (if (f64.gt (local.get $offset) (global.get $lastOffset))
          (then
            (global.set $lastOffset (local.get $offset))
            (call $tick (local.get $offset))))))
    ;; The frame: the packet at data, then data_end, data_meta and data in the context.
    (memory.copy (global.get $data) (local.get $packet) (local.get $length))
    (i32.store offset=0 (global.get $ctx) (global.get $data))
    (i32.store offset=4 (global.get $ctx) (i32.add (global.get $data) (local.get $length)))
    (i32.store offset=8 (global.get $ctx) (global.get $data))
    (if (i32.gt_u (i32.add (global.get $data) (local.get $length)) (global.get $highestEnd))
      (then (global.set $highestEnd (i32.add (global.get $data) (local.get $length)))))
    (global.set $records (i32.add (global.get $records) (i32.const 1)))
    (global.set $bytes (i32.add (global.get $bytes) (local.get $length)))
    (local.set $r0
      (call $run (global.get $registers) (global.get $ctx) (i32.const 0) (i32.const 0)
                 (global.get $framePointer) (i32.const 0) (i32.const 0) (global.get $budget)))
    ;; XDP_DROP is 1, XDP_PASS 2.
    (if (i32.eq (local.get $r0) (i32.const 1))
      (then
        (global.set $dropped (i32.add (global.get $dropped) (i32.const 1)))
        (if (i32.eqz (global.get $firstCounted)) (then (global.set $firstCounted (i32.const 1))))
        (return (i32.const 0))))
    (if (i32.and (i32.eq (local.get $r0) (i32.const 2)) (global.get $passHere))
      (then
        (global.set $passed (i32.add (global.get $passed) (i32.const 1)))
        (if (i32.eqz (global.get $firstCounted)) (then (global.set $firstCounted (i32.const 2))))
        (return (i32.const 0))))
    (global.set $verdict (local.get $r0))
    (i32.const 3))
)
