"""The eight faults that carry a fix: for each, the healthy recipe, the fault, the alert a user acts on, and the alert
kinds whose return means the fix did not hold."""

import faults as F


def _sgd(seed):
    # SGD with momentum on inputs with one stiff feature (x8): past an LR of about 0.04 the first steps blow up
    c = F.base_config(seed)
    c.update(optimizer="sgd", momentum=0.9, feature_scale=8.0, warmup=0, warmup_start=0.01)
    return c


def explosion(seed):
    healthy = dict(_sgd(seed), lr=0.01)
    return healthy, dict(healthy, lr=0.05)


def warmup(seed):
    healthy = dict(_sgd(seed), lr=0.06, warmup=150)
    return healthy, dict(healthy, warmup=30)


def divergence(seed):
    # plain SGD on a linear model whose stiff feature (x8) has curvature 128: stable below an LR of 2 / 128 = 0.0156;
    # after a 50-step warmup the faulty run sits just past it, and the loss, having fallen, climbs again
    healthy = dict(F.base_config(seed), optimizer="sgd", model="linear", feature_scale=8.0, warmup=50,
                   decay="constant", lr=0.008)
    return healthy, dict(healthy, lr=0.016)


def spikes(seed):
    healthy = F.base_config(seed)
    # three batches with labels x25 (a unit bug in one shard), drawn at steps 163, 205 and 247
    return healthy, dict(healthy, bad_batches={"e8/b3": "labels", "e10/b5": "labels", "e12/b7": "labels"})


def nan_batch(seed):
    # no finite-loss guard: the NaN of one corrupted input reaches the weights
    healthy = dict(F.base_config(seed), finite_guard=False)
    return healthy, dict(healthy, bad_batches={"e7/b10": "inf"})


def per_epoch(seed):
    healthy = dict(F.base_config(seed), lr=0.03, warmup=0)
    return healthy, dict(healthy, stepping="epoch")


def micro_batches(seed):
    healthy = dict(F.base_config(seed), lr=0.03, accum=4)
    return healthy, dict(healthy, size_on_micro=True)


def restarted(seed):
    healthy = dict(F.base_config(seed), lr=0.03)
    # the process dies after step 269; resumed from the checkpoint after step 249 with a scheduler built anew
    return healthy, dict(healthy, crash_after=269, restore_scheduler=False)


# name -> (recipes, the alert kinds a user acts on for this fault, the suggestion actions that carry its fix,
#          the alert kinds whose return in the fixed run means the fault recurred; KIND:critical counts only
#          critical alerts of that kind: a run that clips still reports pre-clip norms, and an isolated one above
#          the clip (a warning) was bounded by it, while an explosion that keeps coming back is critical)
KINDS = {
    "grad_explosion": (explosion, ["GRAD_EXPLOSION"], ["clip_grad_norm"], ["GRAD_EXPLOSION:critical", "NON_FINITE"]),
    "warmup_blowup": (warmup, ["WARMUP_SPIKE"], ["extend_warmup"], ["WARMUP_SPIKE", "NON_FINITE"]),
    "divergence": (divergence, ["DIVERGENCE"], ["lower_lr"], ["DIVERGENCE", "NON_FINITE"]),
    "repeated_spikes": (spikes, ["LOSS_SPIKE"], ["rewind_and_skip", "inspect_batch"], ["LOSS_SPIKE", "NON_FINITE"]),
    "nan_batch": (nan_batch, ["NON_FINITE"], ["rewind_and_skip", "inspect_batch"], ["NON_FINITE"]),
    "stepped_per_epoch": (per_epoch, ["LR_MISMATCH"], ["fix_scheduler"], ["LR_MISMATCH"]),
    "sized_on_micro_batches": (micro_batches, ["LR_MISMATCH"], ["fix_scheduler"], ["LR_MISMATCH"]),
    "restarted_on_resume": (restarted, ["LR_MISMATCH"], ["fix_scheduler"], ["LR_MISMATCH"]),
}

# the correction of the scheduler wiring a fix_scheduler alert's evidence.hypothesis calls for (what its change says)
WIRING_FIXES = {
    "stepped_per_epoch": {"stepping": "step"},
    "stretched": {"size_on_micro": False},
    "restarted_on_resume": {"restore_scheduler": True},
}


def recurs(alert, recur):
    """True when ``alert`` (not a resolution) is one of ``recur``: KIND, or KIND:SEVERITY."""
    if alert.get("status") == "resolved":
        return False
    for r in recur:
        kind, _, severity = r.partition(":")
        if alert.get("kind") == kind and (not severity or alert.get("severity") == severity):
            return True
    return False
