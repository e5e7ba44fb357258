package io.trainwatch.detect.lr;

import io.trainwatch.event.Numbers;

/**
 * What to change for each LR wiring bug (the {@code change} of the {@code fix_scheduler} action),
 * in PyTorch, HF Trainer and Lightning terms, kept together so the wording stays consistent across
 * hypotheses.
 */
public final class SchedulerFixes {
    static final String ORDER_SCHEDULER_AFTER_OPTIMIZER =
            "call optimizer.step() first and scheduler.step() after it, once per optimizer step"
                    + " (PyTorch warns about the reverse order); remove extra scheduler.step() calls";
    static final String KEEP_SCHEDULER_IN_STEP_WITH_OPTIMIZER =
            "with AMP a few early overflow skips are expected and the lag stays constant;"
                    + " if it keeps growing, lower the initial loss scale or train in bf16"
                    + " (HF: bf16=True); a hand-written loop should call scheduler.step() exactly once per optimizer step";
    static final String STEP_AFTER_EVERY_OPTIMIZER_STEP =
            "call scheduler.step() after every optimizer.step() (Lightning: \"interval\": \"step\" in configure_optimizers); "
                    + "or, if the schedule is meant per epoch, size it in epochs (T_max/total_iters in epochs) and declare \"interval\": \"epoch\"";
    static final String SIZE_IN_OPTIMIZER_STEPS =
            "size the schedule in optimizer steps: num_training_steps = len(train_dataloader) // gradient_accumulation_steps * num_epochs"
                    + " (HF get_*_schedule_with_warmup, T_max, total_steps likewise; HF Trainer does this itself); divide by the world size if the loader is not sharded";
    static final String STEP_ONCE_PER_EPOCH =
            "call scheduler.step() once per epoch (Lightning: \"interval\": \"epoch\"), or size the schedule in optimizer steps";
    static final String STEP_ONCE_PER_OPTIMIZER_STEP =
            "call scheduler.step() once per optimizer step, next to optimizer.step(), outside the micro-batch loop";
    static final String DECLARE_THE_REAL_WARMUP =
            "declare the warmup the trainer really runs, or shorten it in the trainer (YOLOv5: with few batches per epoch the 100/1000-iteration minimum dominates;"
                    + " HF: warmup_steps counts optimizer steps, warmup_ratio a fraction of max_steps)";
    static final String REMOVE_OVERRIDING_SCHEDULER =
            "remove the \"scheduler\" section from the DeepSpeed config (or make it WarmupDecayLR/WarmupCosineLR with total_num_steps) so that lr_scheduler_type applies; "
                    + "or declare the schedule that is really used";
    static final String STEP_THE_STEPPED_OPTIMIZER =
            "call scheduler.step() after every optimizer.step(), and build the scheduler on the optimizer that is actually stepped";
    static final String COMPARE_WITH_DECLARED =
            "compare the scheduler the trainer builds with the declared spec (class, arguments, base LRs, how often scheduler.step() is called)";

    /** For an LR outside what an adaptive scheduler (ReduceLROnPlateau) allows. */
    public static final String FIND_OTHER_LR_SETTER =
            "find what else sets the optimizer's lr (a second scheduler, a callback, a manual param_group update)";

    private SchedulerFixes() {}

    static String restoreSchedulerState(long resumeStep) {
        return "save scheduler.state_dict() with every checkpoint and load it on resume (PyTorch), or build the scheduler with last_epoch="
                + (resumeStep - 1)
                + "; HF Trainer: resume_from_checkpoint=<checkpoint dir> restores it; Lightning: resume with ckpt_path, not by loading weights only";
    }

    static String setBaseLr(double observedScale) {
        return "set the optimizer's lr to the intended base LR (HF: learning_rate); when resuming with a changed LR, also set scheduler.base_lrs, or declare base_lrs = "
                + Numbers.fmt(observedScale)
                + " x the current ones if the scaling is intended";
    }
}
