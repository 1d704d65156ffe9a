(module
 (type $0 (func (param i32)))
 (type $1 (func (param i64 i64 i64 i64 i64 i32 i32) (result i64)))
 (type $2 (func (param i32 i32 i32 i32 i32)))
 (import "env" "memory" (memory $memory 0))
 (import "env" "helper_5" (func $helper_5 (param i32)))
 (global $regs (mut i32) (i32.const 0))
 (table $functions 1 1 funcref)
 (elem $callx_targets (i32.const 0) $f9)
 (export "run" (func $run))
 (func $f9 (param $0 i64) (param $1 i64) (param $2 i64) (param $3 i64) (param $4 i64) (param $5 i32) (param $6 i32) (result i64)
  (i64.add
   (local.get $0)
   (i64.const 1)
  )
 )
 (func $run (param $0 i32) (param $1 i32) (param $2 i32) (param $3 i32) (param $4 i32)
  (local $5 i64)
  (local $6 i64)
  (local $7 i64)
  (local $8 i64)
  (local $9 i64)
  (global.set $regs
   (local.get $0)
  )
  (drop
   (i64.load offset=8
    (local.get $0)
   )
  )
  (local.set $9
   (call $f9
    (i64.const 3)
    (local.tee $5
     (i64.load offset=16
      (local.get $0)
     )
    )
    (local.tee $6
     (i64.load offset=24
      (local.get $0)
     )
    )
    (local.tee $7
     (i64.load offset=32
      (local.get $0)
     )
    )
    (local.tee $8
     (i64.load offset=40
      (local.get $0)
     )
    )
    (i32.sub
     (local.get $1)
     (i32.const 512)
    )
    (i32.const 1)
   )
  )
  (i64.store offset=8
   (global.get $regs)
   (local.get $9)
  )
  (i64.store offset=16
   (global.get $regs)
   (local.get $5)
  )
  (i64.store offset=24
   (global.get $regs)
   (local.get $6)
  )
  (i64.store offset=32
   (global.get $regs)
   (local.get $7)
  )
  (i64.store offset=40
   (global.get $regs)
   (local.get $8)
  )
  (call $helper_5
   (i32.const 5)
  )
  (i64.store
   (local.get $0)
   (call $f9
    (i64.load
     (global.get $regs)
    )
    (local.get $5)
    (local.get $6)
    (local.get $7)
    (local.get $8)
    (i32.sub
     (local.get $1)
     (i32.const 512)
    )
    (i32.const 1)
   )
  )
 )
)
