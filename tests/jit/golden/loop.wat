(module
 (type $0 (func (param i32 i32 i32)))
 (type $1 (func (param i32 i32 i32 i32 i32)))
 (import "env" "memory" (memory $memory 0))
 (import "env" "trap" (func $trap (param i32 i32 i32)))
 (global $budget (mut i32) (i32.const 0))
 (export "run" (func $run))
 (func $run (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32) (param $4 i32)
  (local $5 i64)
  (local $6 i64)
  (global.set $budget
   (local.get $4)
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
  (local.set $5
   (i64.load offset=8
    (local.get $0)
   )
  )
  (loop $shape$1$continue
   (local.set $6
    (i64.add
     (local.get $5)
     (local.get $6)
    )
   )
   (if
    (i64.ne
     (local.tee $5
      (i64.sub
       (local.get $5)
       (i64.const 1)
      )
     )
     (i64.const 0)
    )
    (then
     (if
      (i32.eqz
       (global.get $budget)
      )
      (then
       (call $trap
        (i32.const 7)
        (i32.const 3)
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
     (br $shape$1$continue)
    )
   )
  )
  (i64.store
   (local.get $0)
   (local.get $6)
  )
 )
)
