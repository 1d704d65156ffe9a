(module
 (type $0 (func (param i32 i32 i32)))
 (type $1 (func (param i32 i32)))
 (type $2 (func (param i32 i32 i32 i32 i32)))
 (import "env" "memory" (memory $memory 0))
 (import "env" "trap" (func $trap (param i32 i32 i32)))
 (import "env" "callx_helper" (func $callx_helper (param i32 i32)))
 (global $regs (mut i32) (i32.const 0))
 (global $budget (mut i32) (i32.const 0))
 (global $packet (mut i32) (i32.const 0))
 (global $packet_length (mut i32) (i32.const 0))
 (table $functions 0 0 funcref)
 (export "run" (func $run))
 (func $run (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32) (param $4 i32)
  (local $5 i64)
  (local $6 i64)
  (local $7 i64)
  (local $8 i64)
  (local $9 i64)
  (local $10 i32)
  (local $11 i32)
  (local $12 i64)
  (local $13 i64)
  (local $14 i64)
  (local $15 i64)
  (local $16 i64)
  (local $17 i64)
  (local $18 i64)
  (local $19 i32)
  (local $20 i32)
  (local $21 i32)
  (local $22 i32)
  (global.set $regs
   (local.get $0)
  )
  (global.set $packet
   (local.get $2)
  )
  (global.set $packet_length
   (local.get $3)
  )
  (global.set $budget
   (local.get $4)
  )
  (i64.store
   (local.get $0)
   (block $__inlined_func$f0 (result i64)
    (local.set $5
     (i64.load offset=8
      (local.get $0)
     )
    )
    (local.set $6
     (i64.load offset=16
      (local.get $0)
     )
    )
    (local.set $7
     (i64.load offset=24
      (local.get $0)
     )
    )
    (local.set $8
     (i64.load offset=32
      (local.get $0)
     )
    )
    (local.set $9
     (i64.load offset=40
      (local.get $0)
     )
    )
    (local.set $10
     (local.get $1)
    )
    (local.set $11
     (i32.const 0)
    )
    (local.set $12
     (i64.const 0)
    )
    (local.set $13
     (i64.const 0)
    )
    (local.set $14
     (i64.const 0)
    )
    (local.set $15
     (i64.const 0)
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
     (i32.const 0)
    )
    (local.set $20
     (i32.const 0)
    )
    (local.set $21
     (i32.const 0)
    )
    (local.set $22
     (i32.const 0)
    )
    (block
     (local.set $17
      (i64.extend_i32_u
       (local.get $10)
      )
     )
     (local.set $22
      (global.get $budget)
     )
     (block $budget$spent
      (block
       (block $block$3$break
        (block
         (local.set $12
          (i64.const 0)
         )
         (local.set $6
          (i64.const 0)
         )
        )
        (if
         (i32.ge_u
          (local.get $22)
          (i32.const 9)
         )
         (then
          (loop $shape$2$continue
           (block
            (local.set $12
             (i64.add
              (local.get $12)
              (local.get $6)
             )
            )
            (local.set $6
             (i64.add
              (local.get $6)
              (i64.const 1)
             )
            )
           )
           (if
            (i64.ne
             (local.get $6)
             (i64.const 10)
            )
            (then
             (local.set $22
              (i32.sub
               (local.get $22)
               (i32.const 1)
              )
             )
             (br $shape$2$continue)
            )
            (else
             (br $block$3$break)
            )
           )
          )
         )
         (else
          (loop $shape$4$continue
           (block
            (local.set $12
             (i64.add
              (local.get $12)
              (local.get $6)
             )
            )
            (local.set $6
             (i64.add
              (local.get $6)
              (i64.const 1)
             )
            )
           )
           (if
            (i64.ne
             (local.get $6)
             (i64.const 10)
            )
            (then
             (block
              (if
               (i32.eqz
                (local.get $22)
               )
               (then
                (local.set $19
                 (i32.const 4)
                )
                (br $budget$spent)
               )
              )
              (local.set $22
               (i32.sub
                (local.get $22)
                (i32.const 1)
               )
              )
             )
             (br $shape$4$continue)
            )
            (else
             (br $block$3$break)
            )
           )
          )
         )
        )
       )
       (block
        (global.set $budget
         (local.get $22)
        )
        (br $__inlined_func$f0
         (local.get $12)
        )
       )
      )
     )
     (call $trap
      (i32.const 7)
      (local.get $19)
      (i32.const 0)
     )
     (unreachable)
    )
   )
  )
 )
)
