package io.trainwatch.schedule;

/**
 * A torch scheduler built with {@code last_epoch = L >= 0} by a torch whose constructor keeps the
 * optimizer's LR (torch 2.x since pytorch/pytorch#149312; torch 1.13 advances it to index L + 1
 * instead). The constructor's initial {@code step()} still moves {@code last_epoch} to L + 1, but
 * under {@code _is_initial} the chainable {@code get_lr} of ExponentialLR, LinearLR, PolynomialLR
 * and CosineAnnealingLR returns the group LR unchanged: index L + 1 has the LR of index L (what the
 * optimizer held, as an uninterrupted run leaves it), and every later step multiplies that LR by
 * the scheduler's own step ratio. So:
 *
 * <ul>
 *   <li>ExponentialLR: {@code v(i - 1)}, the whole schedule one index late;
 *   <li>LinearLR, PolynomialLR: {@code v(L) * f(i) / f(L + 1)} with f the factor of the closed form
 *       (their ratios telescope); constant {@code v(L)} when L + 1 >= total_iters, where the chain
 *       never changes the LR again;
 *   <li>CosineAnnealingLR: {@code eta_min + (v(L) - eta_min) * (1 + cos(pi i/T)) / (1 + cos(pi
 *       (L+1)/T))} up to the next minimum, where the ratio reaches exactly 0; the additive branch
 *       at {@code (i - 1 - T) % 2T == 0} then puts it back on the uninterrupted cosine {@code v(i)}
 *       (integer T_max only: otherwise that branch never runs).
 * </ul>
 *
 * v is the uninterrupted schedule ({@code inner}). Indices up to L are before construction and give
 * v. Every other scheduler computes the same in both torch versions and is not wrapped.
 */
record TorchKeptLrResumeSchedule(Schedule inner, long builtAt) implements Schedule {
    /**
     * {@code inner} if its torch class computes the same whether the constructor keeps the LR or
     * advances it.
     */
    static Schedule wrap(Schedule inner, long builtAt) {
        boolean chainableFromGroupLr =
                inner instanceof ExponentialLrSchedule
                        || inner instanceof LinearLrSchedule
                        || inner instanceof PolynomialLrSchedule
                        || inner instanceof CosineAnnealingLrSchedule;
        return chainableFromGroupLr ? new TorchKeptLrResumeSchedule(inner, builtAt) : inner;
    }

    public int groups() {
        return inner.groups();
    }

    public double lr(int group, long index) {
        if (index <= builtAt) {
            return inner.lr(group, index);
        }
        double kept = inner.lr(group, builtAt);
        if (index == builtAt + 1) {
            return kept;
        }
        if (inner instanceof ExponentialLrSchedule) {
            return inner.lr(group, index - 1);
        }
        if (inner instanceof LinearLrSchedule l) {
            long t = l.totalIters();
            if (builtAt + 1 >= t) {
                return kept;
            }
            // f(i) = start + (end - start) * min(i, T) / T > 0 below T; f(L)/f(L+1) <= 2 and f(i)
            // <= 1: no overflow
            double span = l.endFactor() - l.startFactor();
            double fKept = l.startFactor() + span * builtAt / t;
            double fFirst = l.startFactor() + span * (builtAt + 1) / t;
            double fNow = l.startFactor() + span * Math.min(t, index) / t;
            return Math.max(0.0, l.baseLrs()[group] * (fKept / fFirst) * fNow);
        }
        if (inner instanceof PolynomialLrSchedule p) {
            long t = p.totalIters();
            if (builtAt + 1 >= t) {
                return kept;
            }
            // ((T - min(i, T)) / (T - L - 1))^power <= 1: the telescoped chain ratio, finite for
            // any power
            double ratio = (double) (t - Math.min(t, index)) / (t - builtAt - 1);
            return kept * Math.pow(ratio, p.power());
        }
        CosineAnnealingLrSchedule c = (CosineAnnealingLrSchedule) inner;
        double tMax = c.tMax();
        if (tMax == Math.rint(tMax)) {
            long t = (long) tMax;
            // first index after construction where torch's additive branch runs: T + 1 + 2T m
            long since = builtAt + 2 - (t + 1);
            long reset = t + 1 + (since <= 0 ? 0 : ((since + 2 * t - 1) / (2 * t)) * 2 * t);
            if (index >= reset) {
                return inner.lr(group, index);
            }
        }
        double first = 1 + Math.cos(Math.PI * (builtAt + 1) / tMax);
        double now = 1 + Math.cos(Math.PI * index / tMax);
        if (first == 0) {
            return inner.lr(
                    group, index); // torch divides by zero here (ZeroDivisionError); no LR to match
        }
        double lr =
                c.etaMin()
                        + Saturating.times(Math.abs(kept - c.etaMin()), now / first)
                                * Math.signum(kept - c.etaMin());
        return Math.min(Double.MAX_VALUE, Math.max(0.0, lr));
    }
}
