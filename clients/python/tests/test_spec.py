"""spec_from_scheduler and hf_spec: what they refuse, and the shapes they write. (Every supported class is checked
against real torch LR sequences by scheduler_fidelity.py through TorchSchedulerSpecITCase.)"""

import functools
import importlib.util
import json
import unittest
import warnings

import torch
from torch.optim import SGD
from torch.optim import lr_scheduler as L

from trainwatch_client import UnsupportedScheduler, hf_spec, named_lambda, spec_from_scheduler


def sgd(*lrs):
    return SGD([{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs], lr=lrs[0], momentum=0.9)


def _get_linear_schedule_with_warmup_lr_lambda(current_step, *, num_warmup_steps, num_training_steps):
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1, num_warmup_steps))
    return max(0.0, float(num_training_steps - current_step) / float(max(1, num_training_steps - num_warmup_steps)))


class SpecFromSchedulerTest(unittest.TestCase):
    def setUp(self):
        warnings.simplefilter("ignore", UserWarning)

    def test_fresh_scheduler_declares_last_epoch_minus_one_and_its_arguments(self):
        s = L.StepLR(sgd(0.1, 0.01), 30, gamma=0.5)
        self.assertEqual(spec_from_scheduler(s), {"scheduler": "StepLR", "params": {
            "step_size": 30, "gamma": 0.5, "base_lrs": [0.1, 0.01], "last_epoch": -1}})

    def test_stepped_scheduler_declares_the_index_before_the_next_step(self):
        o = sgd(0.1)
        s = L.ExponentialLR(o, 0.9)
        for _ in range(7):
            o.step()
            s.step()
        self.assertEqual(spec_from_scheduler(s)["params"]["last_epoch"], 6)  # the next optimizer step uses index 7

    def test_a_resume_construction_declares_what_this_torchs_constructor_did_with_the_lr(self):
        o = sgd(0.1)
        o.param_groups[0]["initial_lr"] = 0.1
        o.param_groups[0]["lr"] = 0.05  # what an uninterrupted run holds at index 10
        s = L.CosineAnnealingLR(o, 40, last_epoch=10)
        kept = o.param_groups[0]["lr"] == 0.05  # torch 2.x keeps it, torch 1.13 moves it to index 11
        self.assertEqual(kept, torch.__version__.startswith("2."))
        for _ in range(3):  # stepping on keeps the construction index, which is what the kept curve depends on
            o.step()
            s.step()
            p = spec_from_scheduler(s)["params"]
            self.assertEqual(p.get("kept_lr_at_last_epoch"), 10 if kept else None)
        self.assertEqual(p["last_epoch"], 13)

    def test_a_fresh_or_unaffected_scheduler_never_declares_a_kept_lr(self):
        o = sgd(0.1)
        s = L.ExponentialLR(o, 0.9)
        o.step()
        s.step()
        self.assertNotIn("kept_lr_at_last_epoch", spec_from_scheduler(s)["params"])
        o = sgd(0.1)
        o.param_groups[0]["initial_lr"] = 0.1
        self.assertNotIn("kept_lr_at_last_epoch", spec_from_scheduler(L.StepLR(o, 5, last_epoch=7))["params"])

    def test_spec_is_json_and_integral_arguments_stay_integers(self):
        s = L.StepLR(sgd(0.1), 30.0)  # torch accepts a float step size
        spec = spec_from_scheduler(s)
        self.assertEqual(json.loads(json.dumps(spec))["params"]["step_size"], 30)
        self.assertIsInstance(spec["params"]["step_size"], int)

    def test_refuses_a_fractional_integer_argument(self):
        with self.assertRaisesRegex(UnsupportedScheduler, "StepLR.step_size must be a whole number"):
            spec_from_scheduler(L.StepLR(sgd(0.1), 7.5))

    def test_multistep_keeps_a_repeated_milestone_twice(self):
        spec = spec_from_scheduler(L.MultiStepLR(sgd(0.1), [50, 20, 20]))
        self.assertEqual(spec["params"]["milestones"], [20, 20, 50])

    def test_refuses_classes_the_engine_does_not_reproduce(self):
        with self.assertRaisesRegex(UnsupportedScheduler, "MultiplicativeLR is not a scheduler trainwatch can reproduce"):
            spec_from_scheduler(L.MultiplicativeLR(sgd(0.1), lambda e: 0.9))
        with self.assertRaisesRegex(UnsupportedScheduler, "is not a scheduler trainwatch can reproduce"):
            spec_from_scheduler(object())

    def test_refuses_a_subclass_that_may_compute_differently(self):
        class MyStep(L.StepLR):
            pass
        with self.assertRaisesRegex(UnsupportedScheduler, "subclass of torch's StepLR.*schedule="):
            spec_from_scheduler(MyStep(sgd(0.1), 10))

    def test_refuses_cyclic_with_a_custom_scale_fn(self):
        s = L.CyclicLR(sgd(0.1), 0.001, 0.01, 10, scale_fn=lambda x: 0.5, cycle_momentum=False)
        with self.assertRaisesRegex(UnsupportedScheduler, "custom scale_fn"):
            spec_from_scheduler(s)

    def test_cyclic_recovers_the_step_sizes_exactly(self):
        p = spec_from_scheduler(L.CyclicLR(sgd(0.1), 0.001, 0.01, 2000, 1000, mode="exp_range", gamma=0.999))["params"]
        self.assertEqual((p["step_size_up"], p["step_size_down"], p["mode"], p["gamma"]), (2000, 1000, "exp_range", 0.999))
        self.assertNotIn("base_lrs", p)  # CyclicLR takes its LRs from base_lr/max_lr

    def test_one_cycle_recovers_its_arguments_from_torchs_private_fields(self):
        o = sgd(0.1, 0.1)
        s = L.OneCycleLR(o, [0.1, 0.02], total_steps=1000, pct_start=0.3, anneal_strategy="linear", div_factor=30,
                         final_div_factor=1e3, three_phase=True)
        self.assertEqual(spec_from_scheduler(s)["params"], {
            "max_lr": [0.1, 0.02], "total_steps": 1000, "pct_start": 0.3, "anneal_strategy": "linear", "div_factor": 30,
            "final_div_factor": 1000, "three_phase": True, "last_epoch": -1})

    def test_refuses_warm_restarts_stepped_with_fractional_epochs(self):
        o = sgd(0.1)
        s = L.CosineAnnealingWarmRestarts(o, 10)
        for i in range(5):
            o.step()
            s.step(0 + i / 5)  # the per-iteration form of the torch docs
        with self.assertRaisesRegex(UnsupportedScheduler, "fractional or explicit epochs"):
            spec_from_scheduler(s)

    def test_sequential_declares_its_children_without_base_lrs(self):
        o = sgd(0.1)
        s = L.SequentialLR(o, [L.LinearLR(o, 0.1, total_iters=5), L.CosineAnnealingLR(o, 95)], [5])
        spec = spec_from_scheduler(s)
        self.assertEqual(spec["params"]["milestones"], [5])
        self.assertEqual([c["scheduler"] for c in spec["params"]["schedulers"]], ["LinearLR", "CosineAnnealingLR"])
        self.assertTrue(all("base_lrs" not in c["params"] and "last_epoch" not in c["params"] for c in spec["params"]["schedulers"]))
        self.assertEqual(spec["params"]["base_lrs"], [0.1])

    def test_refuses_nesting_and_non_chainable_children(self):
        o = sgd(0.1)
        inner = L.SequentialLR(o, [L.ConstantLR(o), L.ExponentialLR(o, 0.9)], [5])
        with self.assertRaisesRegex(UnsupportedScheduler, "SequentialLR inside SequentialLR"):
            spec_from_scheduler(L.SequentialLR(o, [inner, L.ExponentialLR(o, 0.9)], [10]))
        o = sgd(0.1)
        with self.assertRaisesRegex(UnsupportedScheduler, "eta_min 0"):
            spec_from_scheduler(L.ChainedScheduler([L.CosineAnnealingLR(o, 10, eta_min=1e-3), L.ExponentialLR(o, 0.9)]))
        o = sgd(0.1)
        with self.assertRaisesRegex(UnsupportedScheduler, "chains only"):
            spec_from_scheduler(L.ChainedScheduler([L.CyclicLR(o, 0.01, 0.1, cycle_momentum=False), L.ExponentialLR(o, 0.9)]))

    def test_refuses_a_chain_whose_children_were_not_stepped_together(self):
        o = sgd(0.1)
        a = L.ExponentialLR(o, 0.9)
        a.step()
        with self.assertRaisesRegex(UnsupportedScheduler, "different last_epoch"):
            spec_from_scheduler(L.ChainedScheduler([a, L.StepLR(o, 3)]))

    def test_plateau_is_adaptive_from_the_lrs_it_has_now(self):
        o = sgd(0.1, 0.01)
        s = L.ReduceLROnPlateau(o, factor=0.5, patience=2, min_lr=[1e-4, 1e-5])
        o.param_groups[0]["lr"] = 0.05
        p = spec_from_scheduler(s)["params"]
        self.assertEqual((p["base_lrs"], p["min_lr"], p["factor"], p["patience"]), ([0.05, 0.01], [1e-4, 1e-5], 0.5, 2))
        self.assertNotIn("last_epoch", p)

    def test_unwraps_accelerates_scheduler_wrapper(self):
        class AcceleratedScheduler:
            def __init__(self, scheduler):
                self.scheduler = scheduler
        inner = L.StepLR(sgd(0.1), 4)
        self.assertEqual(spec_from_scheduler(AcceleratedScheduler(inner)), spec_from_scheduler(inner))


class LambdaRecognitionTest(unittest.TestCase):
    def test_recognises_transformers_partials(self):
        lam = functools.partial(_get_linear_schedule_with_warmup_lr_lambda, num_warmup_steps=10, num_training_steps=100)
        spec = spec_from_scheduler(L.LambdaLR(sgd(5e-5), lam))
        self.assertEqual(spec["params"]["lr_lambda"], {"name": "hf_linear_with_warmup", "num_warmup_steps": 10, "num_training_steps": 100})

    def test_cosine_partial_with_min_lr_rate_is_cosine_with_min_lr(self):
        def _get_cosine_schedule_with_warmup_lr_lambda(current_step, *, num_warmup_steps, num_training_steps, num_cycles, min_lr_rate=0.0):
            return 1.0
        plain = functools.partial(_get_cosine_schedule_with_warmup_lr_lambda, num_warmup_steps=5, num_training_steps=50, num_cycles=0.5)
        rated = functools.partial(_get_cosine_schedule_with_warmup_lr_lambda, num_warmup_steps=5, num_training_steps=50, num_cycles=0.5,
                                  min_lr_rate=0.1)
        self.assertEqual(spec_from_scheduler(L.LambdaLR(sgd(1e-3), plain))["params"]["lr_lambda"]["name"], "hf_cosine_with_warmup")
        named = spec_from_scheduler(L.LambdaLR(sgd(1e-3), rated))["params"]["lr_lambda"]
        self.assertEqual((named["name"], named["min_lr_rate"]), ("hf_cosine_with_min_lr", 0.1))

    def test_recognises_older_transformers_closures(self):
        def get_cosine_schedule_with_warmup(num_warmup_steps, num_training_steps, num_cycles=0.5):
            def lr_lambda(current_step):
                return num_warmup_steps + num_training_steps + num_cycles
            return lr_lambda
        spec = spec_from_scheduler(L.LambdaLR(sgd(1e-3), get_cosine_schedule_with_warmup(10, 100)))
        self.assertEqual(spec["params"]["lr_lambda"], {"name": "hf_cosine_with_warmup", "num_warmup_steps": 10,
                                                       "num_training_steps": 100, "num_cycles": 0.5})

    def test_refuses_an_arbitrary_lambda_and_says_what_to_do(self):
        with self.assertRaisesRegex(UnsupportedScheduler, "named_lambda.*schedule="):
            spec_from_scheduler(L.LambdaLR(sgd(0.1), lambda e: 0.95 ** e))

    def test_refuses_a_known_lambda_with_unknown_arguments(self):
        def _get_linear_schedule_with_warmup_lr_lambda(current_step, **kwargs):  # a future transformers with one more argument
            return 1.0
        lam = functools.partial(_get_linear_schedule_with_warmup_lr_lambda, num_warmup_steps=10, num_training_steps=100, surprise=1)
        with self.assertRaisesRegex(UnsupportedScheduler, "surprise"):
            spec_from_scheduler(L.LambdaLR(sgd(0.1), lam))

    def test_named_lambda_computes_and_declares_the_yolo_lambdas(self):
        f = named_lambda("yolov5_linear", epochs=100, lrf=0.1)
        self.assertAlmostEqual(f(50), 0.55)
        self.assertEqual(f.trainwatch_lambda, {"name": "yolov5_linear", "epochs": 100, "lrf": 0.1})
        with self.assertRaisesRegex(UnsupportedScheduler, "unknown lambda"):
            named_lambda("cosine_of_my_own", epochs=1)
        with self.assertRaises(TypeError):
            named_lambda("yolov5_linear", epochs=100)

    def test_per_group_lambdas_become_a_list(self):
        s = L.LambdaLR(sgd(0.1, 0.2), [named_lambda("yolov5_linear", epochs=10, lrf=0.1), named_lambda("yolov5_one_cycle", epochs=10, lrf=0.1)])
        self.assertEqual([x["name"] for x in spec_from_scheduler(s)["params"]["lr_lambda"]], ["yolov5_linear", "yolov5_one_cycle"])


class HfSpecTest(unittest.TestCase):
    def test_passes_each_type_the_arguments_get_scheduler_passes(self):
        self.assertEqual(hf_spec("cosine", [2e-5], 37, 1218), {"scheduler": "cosine", "params": {
            "num_warmup_steps": 37, "num_training_steps": 1218, "base_lrs": [2e-5]}})
        self.assertEqual(hf_spec("constant", [1e-3], 10, 100)["params"], {"base_lrs": [1e-3]})
        self.assertEqual(hf_spec("inverse_sqrt", [1e-3], 10, 100, {"timescale": 50})["params"],
                         {"num_warmup_steps": 10, "timescale": 50, "base_lrs": [1e-3]})

    def test_polynomial_and_min_lr_divide_by_the_optimizers_default_lr(self):
        self.assertEqual(hf_spec("polynomial", [1e-3, 1e-2], 0, 100, {"lr_end": 1e-7, "power": 2.0}, lr_init=1e-3)["params"]["lr_init"], 1e-3)
        self.assertIn("lr_init", hf_spec("cosine_with_min_lr", [1e-3], 0, 100, {"min_lr": 1e-5}, lr_init=1e-3)["params"])
        self.assertNotIn("lr_init", hf_spec("cosine_with_min_lr", [1e-3], 0, 100, {"min_lr_rate": 0.1}, lr_init=1e-3)["params"])

    def test_accepts_transformers_scheduler_type_enum(self):
        class SchedulerType:
            value = "linear"
        self.assertEqual(hf_spec(SchedulerType(), [1e-3], 5, 50)["scheduler"], "linear")

    def test_plateau_and_unknown_types(self):
        self.assertEqual(hf_spec("reduce_lr_on_plateau", [1e-3], 0, None, {"factor": 0.5, "patience": 3})["scheduler"], "ReduceLROnPlateau")
        with self.assertRaisesRegex(UnsupportedScheduler, "not one trainwatch reproduces"):
            hf_spec("cosine_annealing", [1e-3], 0, 100)
        # transformers 5.x GreedyLR raises and lowers the LR with the loss: said so, not "unknown"
        with self.assertRaisesRegex(UnsupportedScheduler, "greedy.*both directions.*no schedule to check"):
            hf_spec("greedy", [1e-3], 0, 100)


@unittest.skipUnless(importlib.util.find_spec("transformers") and importlib.util.find_spec("accelerate"),
                     "transformers and accelerate (clients/python/.venvs) are not installed here")
class RealTransformersSchedulersTest(unittest.TestCase):
    """transformers' and accelerate's own objects, where installed."""

    def optimizer(self):
        return torch.optim.AdamW([torch.nn.Parameter(torch.zeros(2))], lr=1e-3)

    def test_accelerate_and_deepspeed_wrappers_are_unwrapped(self):
        from accelerate.scheduler import AcceleratedScheduler
        from accelerate.utils.deepspeed import DeepSpeedSchedulerWrapper
        from transformers import get_scheduler
        opt = self.optimizer()
        inner = get_scheduler("cosine", opt, num_warmup_steps=5, num_training_steps=50)
        expected = spec_from_scheduler(inner)
        self.assertEqual(expected["params"]["lr_lambda"]["name"], "hf_cosine_with_warmup")
        self.assertEqual(spec_from_scheduler(AcceleratedScheduler(inner, [opt])), expected)
        self.assertEqual(spec_from_scheduler(DeepSpeedSchedulerWrapper(inner, [opt])), expected)
        self.assertEqual(spec_from_scheduler(AcceleratedScheduler(DeepSpeedSchedulerWrapper(inner, [opt]), [opt])), expected)

    def test_cosine_warmup_with_min_lr_is_declared_and_greedy_named_not_guessed(self):
        from transformers import SchedulerType, get_scheduler
        types = {t.value for t in SchedulerType}
        if "cosine_warmup_with_min_lr" in types:
            s = get_scheduler("cosine_warmup_with_min_lr", self.optimizer(), num_warmup_steps=5, num_training_steps=50,
                              scheduler_specific_kwargs={"min_lr_rate": 0.1, "warmup_lr_rate": 0.05})
            lam = spec_from_scheduler(s)["params"]["lr_lambda"]
            self.assertEqual((lam["name"], lam["num_warmup_steps"], lam["num_training_steps"], lam["min_lr_rate"], lam["warmup_lr_rate"]),
                             ("hf_cosine_warmup_with_min_lr", 5, 50, 0.1, 0.05))
            self.assertEqual(hf_spec("cosine_warmup_with_min_lr", [1e-3], 5, 50, {"min_lr_rate": 0.1})["scheduler"], "cosine_warmup_with_min_lr")
        if "greedy" in types:  # transformers 5.x
            with self.assertRaisesRegex(UnsupportedScheduler, "greedy.*no schedule to check"):
                spec_from_scheduler(get_scheduler("greedy", self.optimizer()))


if __name__ == "__main__":
    unittest.main()
