package io.trainwatch.detect;

import io.trainwatch.event.Numbers;

/**
 * What to change in the training run (the {@code change} of a suggestion), grouped by the
 * suggestion's {@code action}, in PyTorch, HF Trainer and Lightning terms: one place to keep the
 * wording consistent across detectors. The LR wiring fixes ({@code fix_scheduler}) are in {@link
 * io.trainwatch.detect.lr.SchedulerFixes}. Steps are passed as the run's logs number them ({@link
 * StepContext#display}): the change is read by a person.
 */
final class TrainingFixes {
    private TrainingFixes() {}

    // clip_grad_norm

    /** GRAD_EXPLOSION: clip before the optimizer step, in each framework's words. */
    static String clipGradNorm(double maxNorm, boolean alsoHalveLr) {
        return "torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm="
                + Numbers.fmt(maxNorm)
                + ") before optimizer.step() (HF: max_grad_norm="
                + Numbers.fmt(maxNorm)
                + "; Lightning: Trainer(gradient_clip_val="
                + Numbers.fmt(maxNorm)
                + "))"
                + (alsoHalveLr ? ", and halve the LR" : "");
    }

    /** GRAD_EXPLOSION without a number: the run's healthy history is too short to give one. */
    static String clipGradNormAtAHealthyLevel(boolean alsoHalveLr) {
        return "clip the gradient norm before optimizer.step() at about twice its level in a healthy"
                + " stretch of this run (torch.nn.utils.clip_grad_norm_; HF: max_grad_norm; Lightning:"
                + " gradient_clip_val): too few healthy steps were reported to suggest a number"
                + (alsoHalveLr ? ", and halve the LR" : "");
    }

    /** NON_FINITE after a gradient explosion: clip, halve the LR and resume. */
    static String clipGradNormHalveLrAndResume(double maxNorm, long rewindTo) {
        return "torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm="
                + Numbers.fmt(maxNorm)
                + ") (HF: max_grad_norm="
                + Numbers.fmt(maxNorm)
                + "), halve the LR, resume from step "
                + rewindTo;
    }

    // check_run

    /** RUN_SILENT: where a run that stopped without ending usually is. */
    static final String CHECK_SILENT_RUN =
            "check the run's processes: a hung collective (py-spy dump on each rank; NCCL_DEBUG=INFO, TORCH_NCCL_ASYNC_ERROR_HANDLING=1 and a timeout in init_process_group turn a hang into an error), an OOM kill (dmesg, the scheduler's exit code 137), or a preempted node (the cluster's events); resume from the last checkpoint if it is gone";

    // check_throughput

    /** SLOWDOWN: the usual causes of a run that became slower per step. */
    static final String CHECK_THROUGHPUT =
            "check what changed when it slowed: GPU clocks or thermal throttling (nvidia-smi -q -d PERFORMANCE), a straggler rank or a degraded node, the data loader (num_workers, a slow or remote file system: profile with torch.profiler), memory fragmentation or swapping, a neighbour job on the same GPUs, or longer sequences from the data";

    // lower_lr

    /** NON_FINITE after an fp16 loss-scale collapse. */
    static String trainInBf16OrHalveLr(long rewindTo) {
        return "train in bf16 (torch.autocast(dtype=torch.bfloat16); HF: bf16=True, fp16=False) or halve the LR and resume from step "
                + rewindTo;
    }

    /** NON_FINITE, repeated GradScaler overflows: the skipped steps did not touch the weights. */
    static String trainInBf16OrHalveLrNoRewind() {
        return "train in bf16 (torch.autocast(dtype=torch.bfloat16); HF: bf16=True, fp16=False) or halve the LR;"
                + " no rewind needed: the GradScaler skipped the overflowing steps, the weights are intact";
    }

    /** NON_FINITE, a lone GradScaler overflow. */
    static String reportLossScaleIfOverflowsRepeat() {
        return "nothing to change if this stays rare; log loss_scale (scaler.get_scale()) with each step so trainwatch"
                + " counts the skips, and if they repeat train in bf16 or lower the LR";
    }

    /** DIVERGENCE. */
    static String resumeWithHalvedLr(long rewindTo) {
        return "resume from the checkpoint at or before step "
                + rewindTo
                + " with the LR halved (scale base_lrs / learning_rate by 0.5)";
    }

    /** STALL. */
    static final String HALVE_LR_AS_ON_PLATEAU =
            "halve the LR (as ReduceLROnPlateau would), or stop if the validation loss has stopped improving too";

    // inspect_batch

    /** NON_FINITE with healthy gradients before: the batch is the suspect. */
    static String inspectSuspectBatch(long step, String batches, long rewindTo) {
        return "inspect the batch of step "
                + step
                + (batches != null ? " (" + batches + ")" : "")
                + " for empty, corrupted or mislabelled samples; resume from step "
                + rewindTo
                + " skipping it";
    }

    /** LOSS_SPIKE that recovered at once. */
    static String watchIsolatedSpike(long step) {
        return "nothing to do if it stays isolated; look at the batch of step "
                + step
                + " if spikes repeat";
    }

    // rewind_and_skip

    /** NON_FINITE of undetermined cause. */
    static String resumeSkippingThisBatch(long rewindTo) {
        return "resume from step "
                + rewindTo
                + " skipping this batch; report grad_norm with each step so the next diagnosis can say why";
    }

    /** A sustained LOSS_SPIKE. */
    static String rewindPastTheSpike(long rewindTo) {
        return "restart from the checkpoint at or before step "
                + rewindTo
                + ", skip the batches of the spike steps, and if it happens again halve the LR";
    }

    /** Repeated LOSS_SPIKEs. */
    static String rewindPastRepeatedSpikes(long rewindTo, long stepsBeforeFirstSpike) {
        return "restart from the checkpoint at or before step "
                + rewindTo
                + " (about "
                + stepsBeforeFirstSpike
                + " steps before the first spike), skip the listed batches; if spikes return, lower the LR by 30%";
    }

    // extend_warmup

    /** WARMUP_SPIKE. */
    static String extendWarmup(long warmupSteps, double newPeakLr, long onset) {
        return "lengthen the warmup to "
                + warmupSteps
                + " steps (HF: warmup_steps="
                + warmupSteps
                + "; PyTorch: LinearLR total_iters="
                + warmupSteps
                + "), or lower the peak LR to "
                + Numbers.fmt(newPeakLr)
                + "; restart from the beginning or the last checkpoint before step "
                + onset;
    }

    // stop

    /** VANISHING_GRADIENTS. */
    static String inspectVanishingGradients(long onset) {
        return "stop and inspect: check for dead ReLUs/saturated activations, parameters with requires_grad=False, "
                + "a loss scale or LR that zeroes the updates; restart from a checkpoint before step "
                + onset;
    }
}
