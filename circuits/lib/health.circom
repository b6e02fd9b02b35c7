pragma circom 2.1.6;

include "range.circom";

// HealthCheck(THRESHOLD_BITS, HEALTH_BITS): equity * 10000 >= mm * threshold_bps.
// Spec: zkmargin.portfolio (health). equity and mm at EQUITY_SCALE, threshold_bps public.
//   health = 10000 * equity - mm * threshold_bps must be a HEALTH_BITS-bit number: by the
//   fixed-point bounds |health| < 2**(HEALTH_BITS-1), so a negative health (r - |x| in the field)
//   has no such decomposition. threshold_bps is range-checked so that no public value wraps.
// Constraints: THRESHOLD_BITS + HEALTH_BITS + 3.
template HealthCheck(THRESHOLD_BITS, HEALTH_BITS) {
    signal input equity;
    signal input mm;
    signal input threshold_bps;
    signal output health;

    component threshold_range = RangeCheck(THRESHOLD_BITS);
    threshold_range.in <== threshold_bps;
    signal demanded <== mm * threshold_bps;
    health <== 10000 * equity - demanded;
    component solvent = RangeCheck(HEALTH_BITS);
    solvent.in <== health;
}
