(module
  (memory (export "memory") 1)
  ;; The source of the bytes in src/oip/non-finite.ts (test/oip/non-finite.test.ts compiles this
  ;; with wabt and checks that they match). nonfinite(n): 1 when one of the n / 4 FP32 words at
  ;; offset 0 of the memory has all eight exponent bits set (an Inf or a NaN), else 0. Four words
  ;; per step with SIMD: mask, compare, OR into an accumulator, no branch per word.
  (func (export "nonfinite") (param $n i32) (result i32)
    (local $i i32) (local $acc v128) (local $m v128) (local $end i32)
    (local.set $m (v128.const i32x4 0x7f800000 0x7f800000 0x7f800000 0x7f800000))
    (local.set $end (i32.and (local.get $n) (i32.const -16)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $acc (v128.or (local.get $acc)
          (i32x4.eq (v128.and (v128.load (local.get $i)) (local.get $m)) (local.get $m))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $l)))
    (block $tdone
      (loop $t
        (br_if $tdone (i32.ge_u (local.get $i) (local.get $n)))
        (if (i32.eq (i32.and (i32.load (local.get $i)) (i32.const 0x7f800000)) (i32.const 0x7f800000))
          (then (return (i32.const 1))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $t)))
    (v128.any_true (local.get $acc)))
)
