pragma circom 2.1.6;

include "bitify.circom";

// RangeCheck(BITS): constrains 0 <= in < 2**BITS (as an integer, no wrap-around).
// Spec: zkmargin.fixedpoint.Bound (unsigned). Sound because 2**BITS < r for BITS <= 252:
// a field element outside the range has no BITS-bit decomposition.
// Constraints: BITS + 1.
template RangeCheck(BITS) {
    assert(BITS >= 1 && BITS <= 252);
    signal input in;
    component bits = Num2Bits(BITS);
    bits.in <== in;
}

// SignedRange(BITS): constrains -2**(BITS-1) <= in < 2**(BITS-1) (in signed-encoded, r - |x|
// for negatives) and outputs neg = 1 iff in < 0. Spec: fixedpoint.Bound(signed=True).
// The offset value in + 2**(BITS-1) is range-checked; its top bit is 1 exactly when in >= 0.
// Constraints: BITS + 1.
template SignedRange(BITS) {
    assert(BITS >= 2 && BITS <= 252);
    signal input in;
    signal output neg;
    component bits = Num2Bits(BITS);
    bits.in <== in + (1 << (BITS - 1));
    neg <== 1 - bits.out[BITS - 1];
}
