;; Kernels over blocks of a hakmem heap that lives in this module's own memory.
;;
;; The module declares and exports its memory; JS builds the heap over it
;; (createWasmBackend({ memory })), so every pointer hakmem hands out is an address this
;; code can load from and store to. The module imports hakmem's malloc and free, so wasm
;; code allocates from the same heap as JS does. No data segments: the memory starts
;; zeroed, as the heap requires (its header goes at offset 0).
(module
  (import "hakmem" "malloc" (func $malloc (param i32) (result i32)))
  (import "hakmem" "free" (func $free (param i32)))

  ;; 1 page to start, at most 512 pages (32 MiB): the heap's maxBytes.
  (memory (export "memory") 1 512)

  ;; Sum of n f64s at ptr.
  (func (export "sum_f64") (param $ptr i32) (param $n i32) (result f64)
    (local $acc f64)
    (local $end i32)
    (local.set $end (i32.add (local.get $ptr) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))
        (local.set $acc (f64.add (local.get $acc) (f64.load (local.get $ptr))))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 8)))
        (br $next)))
    (local.get $acc))

  ;; In place: x[i] = x[i] * k + c for n f64s at ptr.
  (func (export "axpb_f64") (param $ptr i32) (param $n i32) (param $k f64) (param $c f64)
    (local $end i32)
    (local.set $end (i32.add (local.get $ptr) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))
        (f64.store (local.get $ptr)
          (f64.add (f64.mul (f64.load (local.get $ptr)) (local.get $k)) (local.get $c)))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 8)))
        (br $next))))

  ;; In place: ASCII a..z become A..Z in len bytes at ptr; returns how many changed.
  (func (export "upper_ascii") (param $ptr i32) (param $len i32) (result i32)
    (local $end i32)
    (local $b i32)
    (local $changed i32)
    (local.set $end (i32.add (local.get $ptr) (local.get $len)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))
        (local.set $b (i32.load8_u (local.get $ptr)))
        ;; b - 'a' < 26 (unsigned) <=> 'a' <= b <= 'z'
        (if (i32.lt_u (i32.sub (local.get $b) (i32.const 97)) (i32.const 26))
          (then
            (i32.store8 (local.get $ptr) (i32.sub (local.get $b) (i32.const 32)))
            (local.set $changed (i32.add (local.get $changed) (i32.const 1)))))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 1)))
        (br $next)))
    (local.get $changed))

  ;; A new block of n f64s (allocated with hakmem's malloc, from wasm) holding the
  ;; running sums of the n f64s at src; 0 when the heap is out of memory. The caller
  ;; frees it.
  (func (export "prefix_sums_f64") (param $src i32) (param $n i32) (result i32)
    (local $dst i32)
    (local $i i32)
    (local $acc f64)
    (local.set $dst (call $malloc (i32.shl (local.get $n) (i32.const 3))))
    (if (i32.eqz (local.get $dst)) (then (return (i32.const 0))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc (f64.add (local.get $acc)
          (f64.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 3))))))
        (f64.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 3))) (local.get $acc))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $dst))

  ;; Builds a singly linked list of n nodes {next: i32, value: i32} with hakmem's malloc,
  ;; values 0..n-1, and returns its head (0 when n = 0 or out of memory: nothing leaks).
  (func (export "make_list") (param $n i32) (result i32)
    (local $head i32)
    (local $node i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (local.set $node (call $malloc (i32.const 8)))
        (if (i32.eqz (local.get $node))
          (then
            (call $free_list (local.get $head))
            (return (i32.const 0))))
        (i32.store (local.get $node) (local.get $head))
        (i32.store offset=4 (local.get $node) (local.get $n))
        (local.set $head (local.get $node))
        (br $next)))
    (local.get $head))

  ;; Sum of the values of a list built by make_list.
  (func (export "sum_list") (param $node i32) (result i32)
    (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $node)))
        (local.set $acc (i32.add (local.get $acc) (i32.load offset=4 (local.get $node))))
        (local.set $node (i32.load (local.get $node)))
        (br $next)))
    (local.get $acc))

  ;; Frees every node of a list with hakmem's free.
  (func $free_list (export "free_list") (param $node i32)
    (local $next i32)
    (block $done
      (loop $again
        (br_if $done (i32.eqz (local.get $node)))
        (local.set $next (i32.load (local.get $node)))
        (call $free (local.get $node))
        (local.set $node (local.get $next))
        (br $again))))
)
