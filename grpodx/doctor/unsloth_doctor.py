"""The doctor on Unsloth's patched model (`model.doctor.backend: unsloth`, CUDA only).

Unsloth patches `generate` and switches the model between its inference and training kernels, so
the transformers-only speed-ups of `Doctor` (cross-turn KV cache, merged adapter while sampling,
the CPU decode attention) are off here, and sampling runs inside `for_inference`/`for_training`.
"""

from __future__ import annotations

from contextlib import contextmanager, nullcontext

from grpodx.doctor.policy import Doctor


class UnslothDoctor(Doctor):
    def turn_cache(self) -> None:
        return None

    @contextmanager
    def _merged_adapter(self):
        yield

    def _decode_attention(self):
        return nullcontext()

    @contextmanager
    def _inference_mode(self):
        from unsloth import FastLanguageModel

        with super()._inference_mode():
            FastLanguageModel.for_inference(self.model)
            try:
                yield
            finally:
                FastLanguageModel.for_training(self.model)
