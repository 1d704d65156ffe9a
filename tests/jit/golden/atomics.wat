(module
 (type $0 (func (param i32 i32 i32)))
 (type $1 (func (param i32 i32 i32 i32 i32)))
 (import "env" "memory" (memory $memory 0))
 (import "env" "trap" (func $trap (param i32 i32 i32)))
 (export "run" (func $run))
 (func $run (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32) (param $4 i32)
  (local $5 i64)
  (local $6 i64)
  (drop
   (i64.load offset=8
    (local.get $0)
   )
  )
  (drop
   (i64.load offset=16
    (local.get $0)
   )
  )
  (drop
   (i64.load offset=24
    (local.get $0)
   )
  )
  (drop
   (i64.load offset=32
    (local.get $0)
   )
  )
  (drop
   (i64.load offset=40
    (local.get $0)
   )
  )
  (i64.store align=1
   (i32.sub
    (i32.wrap_i64
     (local.tee $5
      (i64.extend_i32_u
       (local.get $1)
      )
     )
    )
    (i32.const 8)
   )
   (i64.const 5)
  )
  (if
   (i32.and
    (local.tee $1
     (i32.sub
      (i32.wrap_i64
       (local.get $5)
      )
      (i32.const 8)
     )
    )
    (i32.const 7)
   )
   (then
    (call $trap
     (i32.const 6)
     (i32.const 2)
     (local.get $1)
    )
    (unreachable)
   )
  )
  (i64.store
   (local.get $1)
   (i64.add
    (local.tee $6
     (i64.load
      (local.get $1)
     )
    )
    (i64.const 2)
   )
  )
  (if
   (i32.and
    (local.tee $1
     (i32.sub
      (i32.wrap_i64
       (local.get $5)
      )
      (i32.const 8)
     )
    )
    (i32.const 7)
   )
   (then
    (call $trap
     (i32.const 6)
     (i32.const 4)
     (local.get $1)
    )
    (unreachable)
   )
  )
  (if
   (i64.eq
    (local.tee $5
     (local.get $6)
    )
    (local.tee $6
     (i64.load
      (local.get $1)
     )
    )
   )
   (then
    (i64.store
     (local.get $1)
     (local.get $5)
    )
   )
  )
  (i64.store
   (local.get $0)
   (local.get $6)
  )
 )
)
