package io.trainwatch.schedule;

/**
 * When {@code scheduler.step()} is called, counted in optimizer steps: how many calls happened
 * before optimizer step {@code s} ({@link #callsBefore}), and its inverse ({@link
 * #firstStepAfter}). Both in closed form, O(1).
 */
sealed interface SchedulerStepping {

    /**
     * {@code scheduler.step()} calls made before optimizer step {@code step} (0 <= step <= 2^53)
     * runs.
     */
    long callsBefore(long step);

    /**
     * The first optimizer step that runs after {@code calls} calls (0 <= calls <= {@code
     * callsBefore(2^53)}): the smallest step s with {@code callsBefore(s) >= calls}.
     */
    long firstStepAfter(long calls);

    /**
     * Optimizer steps between two calls inside an epoch: the period a stepping mistake would show
     * as.
     */
    long period();

    /**
     * Every {@code every} optimizer steps: per step (1), per epoch (steps_per_epoch × frequency),
     * or as declared.
     */
    record Uniform(long every) implements SchedulerStepping {
        @Override
        public long callsBefore(long step) {
            return step / every;
        }

        @Override
        public long firstStepAfter(long calls) {
            return calls * every;
        }

        @Override
        public long period() {
            return every;
        }
    }

    /**
     * Lightning's {@code "interval": "step"} with {@code frequency} F, as
     * lightning/pytorch/loops/training_epoch_loop.py (2.x) {@code _update_learning_rates} does it:
     * after an optimizer step taken at batch {@code batch_idx} of an epoch, the scheduler steps
     * when {@code (batch_idx + 1) % F == 0}, and batch_idx restarts at 0 every epoch. With {@code
     * accumulate_grad_batches} A over B batches per epoch, the optimizer steps after batches A-1,
     * 2A-1, ... and after the last batch B-1 (a partial window), so an epoch has S = ceil(B / A)
     * optimizer steps. Its j-th step (j &lt; S - 1) ends at batch (j+1)·A - 1: the scheduler steps
     * when (j+1)·A ≡ 0 (mod F), i.e. every P = F / gcd(A, F) optimizer steps; the last one ends at
     * batch B - 1 and steps when B ≡ 0 (mod F). So an epoch makes C = floor((S - 1) / P) + [B mod F
     * = 0] calls, and before step s = e·S + j there were e·C + floor(j / P).
     */
    record LightningFrequency(long batchesPerEpoch, long accumulate, long frequency)
            implements SchedulerStepping {
        long stepsPerEpoch() {
            return (batchesPerEpoch + accumulate - 1) / accumulate;
        }

        @Override
        public long period() {
            return frequency / gcd(accumulate, frequency);
        }

        long callsPerEpoch() {
            return (stepsPerEpoch() - 1) / period() + (batchesPerEpoch % frequency == 0 ? 1 : 0);
        }

        @Override
        public long callsBefore(long step) {
            long s = stepsPerEpoch();
            return (step / s) * callsPerEpoch() + (step % s) / period();
        }

        @Override
        public long firstStepAfter(long calls) {
            if (calls <= 0) {
                return 0;
            }
            long c = callsPerEpoch();
            if (c == 0) {
                return SpecLimits
                        .MAX_STEP; // never steps (frequency above the epoch's batches): no step
                // follows a call
            }
            long epoch = (calls - 1) / c;
            long r = (calls - 1) % c + 1; // the r-th call of its epoch, 1..c
            long s = stepsPerEpoch();
            // the r-th call follows in-epoch step r·P - 1, except the epoch's last call when it is
            // the one of the last batch
            long after = r <= (s - 1) / period() ? r * period() - 1 : s - 1;
            return epoch * s + after + 1;
        }

        private static long gcd(long a, long b) {
            while (b != 0) {
                long t = a % b;
                a = b;
                b = t;
            }
            return a;
        }
    }
}
