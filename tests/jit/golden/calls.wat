(module
 (type $0 (func (param i64 i64 i64 i64 i64 i32 i32) (result i64)))
 (type $1 (func (param i32 i32)))
 (type $2 (func (param i32 i32 i32)))
 (type $3 (func (param i32)))
 (type $4 (func (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
 (type $5 (func (param i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
 (import "env" "memory" (memory $memory 0))
 (import "env" "trap" (func $trap (param i32 i32 i32)))
 (import "env" "callx_helper" (func $callx_helper (param i32 i32)))
 (import "env" "helper_5" (func $helper_5 (param i32)))
 (global $regs (mut i32) (i32.const 0))
 (global $budget (mut i32) (i32.const 0))
 (global $packet (mut i32) (i32.const 0))
 (global $packet_length (mut i32) (i32.const 0))
 (global $caller_fp (mut i32) (i32.const 0))
 (global $caller_depth (mut i32) (i32.const 0))
 (global $loop_depth (mut i32) (i32.const 0))
 (table $functions 1 1 funcref)
 (elem $callx_targets (i32.const 0) $f9)
 (export "loop_depth" (global $loop_depth))
 (export "run" (func $run))
 (export "repeat" (func $repeat))
 (export "callback" (func $callback))
 (func $f9 (param $0 i64) (param $1 i64) (param $2 i64) (param $3 i64) (param $4 i64) (param $5 i32) (param $6 i32) (result i64)
  (local $7 i64)
  (local $8 i64)
  (local $9 i64)
  (local $10 i64)
  (local $11 i64)
  (local $12 i64)
  (local $13 i64)
  (local $14 i32)
  (local $15 i32)
  (local $16 i32)
  (local.set $12
   (i64.extend_i32_u
    (local.get $5)
   )
  )
  (block
   (local.set $7
    (local.get $0)
   )
   (local.set $7
    (i64.add
     (local.get $7)
     (i64.const 1)
    )
   )
   (return
    (local.get $7)
   )
  )
 )
 (func $run (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32) (param $4 i32) (param $5 i32) (param $6 i32) (param $7 i32) (result i32)
  (local $8 i64)
  (local $9 i64)
  (local $10 i64)
  (local $11 i64)
  (local $12 i64)
  (local $13 i64)
  (local $14 i32)
  (local $15 i32)
  (local $16 i64)
  (local $17 i64)
  (local $18 i64)
  (local $19 i64)
  (local $20 i64)
  (local $21 i64)
  (local $22 i64)
  (local $23 i32)
  (local $24 i32)
  (local $25 i32)
  (global.set $regs
   (local.get $0)
  )
  (global.set $packet
   (local.get $5)
  )
  (global.set $packet_length
   (local.get $6)
  )
  (global.set $budget
   (local.get $7)
  )
  (global.set $loop_depth
   (i32.const 0)
  )
  (local.set $8
   (block $__inlined_func$f0 (result i64)
    (local.set $9
     (i64.or
      (i64.extend_i32_u
       (local.get $1)
      )
      (i64.shl
       (i64.extend_i32_u
        (local.get $2)
       )
       (i64.const 32)
      )
     )
    )
    (local.set $10
     (if (result i64)
      (local.get $3)
      (then
       (i64.load offset=16
        (local.get $0)
       )
      )
      (else
       (i64.const 0)
      )
     )
    )
    (local.set $11
     (if (result i64)
      (local.get $3)
      (then
       (i64.load offset=24
        (local.get $0)
       )
      )
      (else
       (i64.const 0)
      )
     )
    )
    (local.set $12
     (if (result i64)
      (local.get $3)
      (then
       (i64.load offset=32
        (local.get $0)
       )
      )
      (else
       (i64.const 0)
      )
     )
    )
    (local.set $13
     (if (result i64)
      (local.get $3)
      (then
       (i64.load offset=40
        (local.get $0)
       )
      )
      (else
       (i64.const 0)
      )
     )
    )
    (local.set $14
     (local.get $4)
    )
    (local.set $15
     (i32.const 0)
    )
    (local.set $16
     (i64.const 0)
    )
    (local.set $17
     (i64.const 0)
    )
    (local.set $18
     (i64.const 0)
    )
    (local.set $19
     (i64.const 0)
    )
    (local.set $20
     (i64.const 0)
    )
    (local.set $21
     (i64.const 0)
    )
    (local.set $22
     (i64.const 0)
    )
    (local.set $23
     (i32.const 0)
    )
    (local.set $24
     (i32.const 0)
    )
    (local.set $25
     (i32.const 0)
    )
    (block
     (local.set $21
      (i64.extend_i32_u
       (local.get $14)
      )
     )
     (block
      (local.set $17
       (i64.const 4294967305)
      )
      (local.set $9
       (i64.const 3)
      )
      (if
       (i32.ge_u
        (i32.add
         (local.get $15)
         (i32.const 1)
        )
        (i32.const 8)
       )
       (then
        (call $trap
         (i32.const 1)
         (i32.const 3)
         (i32.const 0)
        )
        (unreachable)
       )
      )
      (local.set $16
       (call $f9
        (local.get $9)
        (local.get $10)
        (local.get $11)
        (local.get $12)
        (local.get $13)
        (i32.sub
         (local.get $14)
         (i32.const 512)
        )
        (i32.add
         (local.get $15)
         (i32.const 1)
        )
       )
      )
      (local.set $9
       (local.get $16)
      )
      (i64.store offset=8
       (global.get $regs)
       (local.get $9)
      )
      (i64.store offset=16
       (global.get $regs)
       (local.get $10)
      )
      (i64.store offset=24
       (global.get $regs)
       (local.get $11)
      )
      (i64.store offset=32
       (global.get $regs)
       (local.get $12)
      )
      (i64.store offset=40
       (global.get $regs)
       (local.get $13)
      )
      (global.set $caller_fp
       (local.get $14)
      )
      (global.set $caller_depth
       (local.get $15)
      )
      (call $helper_5
       (i32.const 5)
      )
      (local.set $16
       (i64.load
        (global.get $regs)
       )
      )
      (local.set $9
       (local.get $16)
      )
      (local.set $22
       (local.get $17)
      )
      (if
       (i32.eq
        (i32.wrap_i64
         (i64.shr_u
          (local.get $22)
          (i64.const 32)
         )
        )
        (i32.const 1)
       )
       (then
        (local.set $23
         (select
          (i32.const 0)
          (i32.const -1)
          (i32.eq
           (i32.wrap_i64
            (local.get $22)
           )
           (i32.const 9)
          )
         )
        )
        (if
         (i32.lt_s
          (local.get $23)
          (i32.const 0)
         )
         (then
          (call $trap
           (i32.const 3)
           (i32.const 7)
           (i32.wrap_i64
            (local.get $22)
           )
          )
          (unreachable)
         )
        )
        (block
         (if
          (i32.ge_u
           (i32.add
            (local.get $15)
            (i32.const 1)
           )
           (i32.const 8)
          )
          (then
           (call $trap
            (i32.const 1)
            (i32.const 7)
            (i32.const 0)
           )
           (unreachable)
          )
         )
         (local.set $16
          (call_indirect $functions (type $0)
           (local.get $9)
           (local.get $10)
           (local.get $11)
           (local.get $12)
           (local.get $13)
           (i32.sub
            (local.get $14)
            (i32.const 512)
           )
           (i32.add
            (local.get $15)
            (i32.const 1)
           )
           (local.get $23)
          )
         )
        )
       )
       (else
        (if
         (i32.eqz
          (i32.wrap_i64
           (i64.shr_u
            (local.get $22)
            (i64.const 32)
           )
          )
         )
         (then
          (i64.store offset=8
           (global.get $regs)
           (local.get $9)
          )
          (i64.store offset=16
           (global.get $regs)
           (local.get $10)
          )
          (i64.store offset=24
           (global.get $regs)
           (local.get $11)
          )
          (i64.store offset=32
           (global.get $regs)
           (local.get $12)
          )
          (i64.store offset=40
           (global.get $regs)
           (local.get $13)
          )
          (global.set $caller_fp
           (local.get $14)
          )
          (global.set $caller_depth
           (local.get $15)
          )
          (call $callx_helper
           (i32.wrap_i64
            (local.get $22)
           )
           (i32.const 7)
          )
          (local.set $16
           (i64.load
            (global.get $regs)
           )
          )
         )
         (else
          (call $trap
           (i32.const 3)
           (i32.const 7)
           (i32.wrap_i64
            (local.get $22)
           )
          )
          (unreachable)
         )
        )
       )
      )
      (br $__inlined_func$f0
       (local.get $16)
      )
     )
    )
   )
  )
  (i64.store
   (local.get $0)
   (local.get $8)
  )
  (i32.wrap_i64
   (local.get $8)
  )
 )
 (func $repeat (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32) (param $4 i32) (param $5 i32) (param $6 i32) (param $7 i32) (param $8 i32) (result i32)
  (local $9 i32)
  (loop $again
   (local.set $9
    (call $run
     (local.get $0)
     (local.get $1)
     (local.get $2)
     (local.get $3)
     (local.get $4)
     (local.get $5)
     (local.get $6)
     (local.get $7)
    )
   )
   (local.set $8
    (i32.sub
     (local.get $8)
     (i32.const 1)
    )
   )
   (br_if $again
    (i32.gt_s
     (local.get $8)
     (i32.const 0)
    )
   )
  )
  (local.get $9)
 )
 (func $callback (param $0 i32) (param $1 i32)
  (local $2 i32)
  (local $3 i32)
  (local $4 i32)
  (local.set $2
   (global.get $caller_fp)
  )
  (local.set $3
   (global.get $caller_depth)
  )
  (local.set $4
   (select
    (i32.const 0)
    (i32.const -1)
    (i32.eq
     (local.get $0)
     (i32.const 9)
    )
   )
  )
  (if
   (i32.lt_s
    (local.get $4)
    (i32.const 0)
   )
   (then
    (call $trap
     (i32.const 10)
     (local.get $1)
     (local.get $0)
    )
    (unreachable)
   )
  )
  (if
   (i32.ge_u
    (i32.add
     (local.get $3)
     (i32.const 1)
    )
    (i32.const 8)
   )
   (then
    (call $trap
     (i32.const 1)
     (local.get $1)
     (i32.const 0)
    )
    (unreachable)
   )
  )
  (if
   (i32.eqz
    (global.get $budget)
   )
   (then
    (call $trap
     (i32.const 7)
     (local.get $1)
     (i32.const 0)
    )
    (unreachable)
   )
  )
  (global.set $budget
   (i32.sub
    (global.get $budget)
    (i32.const 1)
   )
  )
  (i64.store
   (global.get $regs)
   (call_indirect $functions (type $0)
    (i64.load offset=8
     (global.get $regs)
    )
    (i64.load offset=16
     (global.get $regs)
    )
    (i64.load offset=24
     (global.get $regs)
    )
    (i64.load offset=32
     (global.get $regs)
    )
    (i64.load offset=40
     (global.get $regs)
    )
    (i32.sub
     (local.get $2)
     (i32.const 512)
    )
    (i32.add
     (local.get $3)
     (i32.const 1)
    )
    (local.get $4)
   )
  )
  (global.set $caller_fp
   (local.get $2)
  )
  (global.set $caller_depth
   (local.get $3)
  )
 )
)
