package io.trainwatch.schedule;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;

/**
 * The most expensive specs to evaluate that {@link SpecLimits} still accepts: the most children,
 * milestones, groups and warm-restart cycles a spec can have. ScheduleBoundsTest bounds their cost;
 * ScheduleBoundsBenchmark measures it.
 */
final class WorstCaseSpecs {
    /**
     * Milestones per MultiStepLR child: as many as 15 children and 1,024 groups leave under the
     * node limit.
     */
    static final int CHILD_MILESTONES = 1000;

    private WorstCaseSpecs() {}

    /** name -> spec JSON, every one accepted. */
    static Map<String, String> all() {
        Map<String, String> m = new LinkedHashMap<>();
        // past T_max the cosine child makes every other child evaluate twice: 1 + 2 * 15 child
        // evaluations per LR
        StringJoiner chained = new StringJoiner(",");
        chained.add("{\"scheduler\":\"CosineAnnealingLR\",\"params\":{\"T_max\":10}}");
        for (int c = 1; c < SpecLimits.MAX_CHILDREN; c++) {
            chained.add(multiStepChild(c));
        }
        m.put(
                "chained-16-children",
                "{\"scheduler\":\"ChainedScheduler\",\"params\":{\"schedulers\":["
                        + chained
                        + "],\"base_lrs\":"
                        + groups(SpecLimits.MAX_CHAINED_EVALUATIONS / SpecLimits.MAX_CHILDREN)
                        + "}}");
        StringJoiner sequential = new StringJoiner(",");
        StringJoiner switches = new StringJoiner(",");
        for (int c = 0; c < SpecLimits.MAX_CHILDREN - 1; c++) {
            sequential.add(multiStepChild(c));
            switches.add(Long.toString((c + 1) * (SpecLimits.MAX_STEP / SpecLimits.MAX_CHILDREN)));
        }
        sequential.add(
                "{\"scheduler\":\"CosineAnnealingWarmRestarts\",\"params\":{\"T_0\":1,\"T_mult\":2}}");
        m.put(
                "sequential-16-children",
                "{\"scheduler\":\"SequentialLR\",\"params\":{\"schedulers\":["
                        + sequential
                        + "],\"milestones\":["
                        + switches
                        + "],\"base_lrs\":"
                        + groups(SpecLimits.MAX_PARAM_GROUPS)
                        + "}}");
        m.put(
                "multistep-4096-milestones",
                "{\"scheduler\":\"MultiStepLR\",\"params\":{\"milestones\":"
                        + milestones(SpecLimits.MAX_MILESTONES, 0)
                        + ",\"gamma\":0.999,\"base_lrs\":"
                        + groups(SpecLimits.MAX_PARAM_GROUPS)
                        + "}}");
        m.put(
                "warm-restarts-tmult-2",
                "{\"scheduler\":\"CosineAnnealingWarmRestarts\",\"params\":{\"T_0\":1,\"T_mult\":2,\"base_lrs\":"
                        + groups(SpecLimits.MAX_PARAM_GROUPS)
                        + "}}");
        StringJoiner lambdas = new StringJoiner(",");
        for (int g = 0; g < SpecLimits.MAX_PARAM_GROUPS; g++) {
            lambdas.add(
                    "{\"name\":\"hf_cosine_with_hard_restarts_with_warmup\",\"num_warmup_steps\":"
                            + (100 + g)
                            + ",\"num_training_steps\":100000000,\"num_cycles\":3}");
        }
        m.put(
                "lambda-1024-groups",
                "{\"scheduler\":\"LambdaLR\",\"params\":{\"lr_lambda\":["
                        + lambdas
                        + "],\"base_lrs\":"
                        + groups(SpecLimits.MAX_PARAM_GROUPS)
                        + "}}");
        m.put(
                "one-cycle-three-phase",
                "{\"scheduler\":\"OneCycleLR\",\"params\":{\"max_lr\":"
                        + groups(SpecLimits.MAX_PARAM_GROUPS)
                        + ",\"total_steps\":9007199254740992,\"three_phase\":true}}");
        return m;
    }

    private static String multiStepChild(int c) {
        return "{\"scheduler\":\"MultiStepLR\",\"params\":{\"milestones\":"
                + milestones(CHILD_MILESTONES, c)
                + ",\"gamma\":0.999}}";
    }

    /** n increasing milestones spread over [1, 2^53), offset per child so the lists differ. */
    private static String milestones(int n, int child) {
        StringJoiner j = new StringJoiner(",", "[", "]");
        long spacing = SpecLimits.MAX_STEP / (n + 1);
        for (int i = 1; i <= n; i++) {
            j.add(Long.toString(i * spacing + child));
        }
        return j.toString();
    }

    private static String groups(int n) {
        StringJoiner j = new StringJoiner(",", "[", "]");
        for (int g = 0; g < n; g++) {
            j.add(g % 2 == 0 ? "0.1" : "0.01");
        }
        return j.toString();
    }
}
