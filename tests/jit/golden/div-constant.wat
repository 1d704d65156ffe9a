(module
 (type $0 (func (param i32 i32 i32)))
 (type $1 (func (param i32 i32)))
 (type $2 (func (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
 (type $3 (func (param i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
 (import "env" "memory" (memory $memory 0))
 (import "env" "trap" (func $trap (param i32 i32 i32)))
 (import "env" "callx_helper" (func $callx_helper (param i32 i32)))
 (global $regs (mut i32) (i32.const 0))
 (global $budget (mut i32) (i32.const 0))
 (global $packet (mut i32) (i32.const 0))
 (global $packet_length (mut i32) (i32.const 0))
 (table $functions 0 0 funcref)
 (export "run" (func $run))
 (export "repeat" (func $repeat))
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
      (local.set $16
       (local.get $9)
      )
      (local.set $16
       (i64.div_u
        (local.get $16)
        (i64.const 13)
       )
      )
      (local.set $16
       (i64.extend_i32_u
        (i32.sub
         (i32.const 0)
         (i32.wrap_i64
          (local.get $16)
         )
        )
       )
      )
      (local.set $16
       (local.get $16)
      )
      (local.set $16
       (i64.rem_s
        (local.get $16)
        (i64.const 7)
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
)
