"""trainwatch client: send a training run to trainwatch and read its alerts back.

    from trainwatch_client import Reporter
    tw = Reporter("broker:9092", "my-run")
    tw.run_start(optimizer, scheduler)
    for step, batch in enumerate(loader):
        ...; loss.backward()
        tw.step(step, loss, optimizer, model)
        optimizer.step(); scheduler.step(); optimizer.zero_grad()
    tw.run_end(); tw.close()

Hugging Face: ``trainwatch_client.hf.TrainwatchCallback``; Lightning: ``trainwatch_client.lightning.TrainwatchCallback``
(imported only when used, so neither library is needed here).
"""

from .reporter import JsonLinesSink, Reporter
from .spec import HF_SCHEDULER_TYPES, UnsupportedScheduler, hf_spec, named_lambda, spec_from_scheduler
from .suggestions import Suggestions

__version__ = "0.1.0"
__all__ = ["Reporter", "JsonLinesSink", "Suggestions", "spec_from_scheduler", "hf_spec", "named_lambda", "UnsupportedScheduler",
           "HF_SCHEDULER_TYPES"]
