(module
 (type $0 (func (param i32 i32 i32 i32 i32)))
 (import "env" "memory" (memory $memory 0))
 (export "run" (func $run))
 (func $run (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32) (param $4 i32)
  (local $5 i64)
  (local $6 i64)
  (local.set $5
   (i64.load offset=8
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
  (i64.store
   (local.get $0)
   (if (result i64)
    (i64.eqz
     (local.tee $6
      (i64.load offset=16
       (local.get $0)
      )
     )
    )
    (then
     (i64.const 0)
    )
    (else
     (if (result i64)
      (i64.eq
       (local.get $6)
       (i64.const -1)
      )
      (then
       (i64.sub
        (i64.const 0)
        (local.get $5)
       )
      )
      (else
       (i64.div_s
        (local.get $5)
        (local.get $6)
       )
      )
     )
    )
   )
  )
 )
)
