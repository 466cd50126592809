"""The local backend on a tiny random LLaVA built offline from configs.

The model is a 2-layer CLIP vision tower and a 2-layer Llama with a
character-level byte tokenizer (every digit is a token) and a plain chat
template. Its output layer is set so that every token but the digits 1-5
has logit 0 and the digits' logits sum to 0: greedy decoding then always
writes a digit first, with probabilities that are far from uniform, and the
test recomputes the expected rating from the model's own logits.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from metrics import MetricError, Sample
from metrics.vlm_judge import VlmJudge, load_template
from tests.helpers.tiny_models import tiny_llava as build_tiny_llava

DIGITS = ["1", "2", "3", "4", "5"]


def digits_only(model, tokenizer) -> None:
    """Every logit 0 but the digits 1-5, whose logits are spread and sum to 0."""
    digit_ids = [tokenizer.convert_tokens_to_ids(d) for d in DIGITS]
    head = model.get_output_embeddings().weight
    with torch.no_grad():
        rows = torch.randn(len(DIGITS), head.shape[1]) * 3.0  # continues the seeded init
        rows[-1] = -rows[:-1].sum(dim=0)
        head.zero_()
        head[digit_ids] = rows


@pytest.fixture(scope="module")
def tiny_llava(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-llava")
    model, processor = build_tiny_llava(folder, set_head=digits_only)
    digit_ids = [processor.tokenizer.convert_tokens_to_ids(d) for d in DIGITS]
    return str(folder), model, processor, digit_ids


@pytest.fixture
def images(tmp_path):
    paths = []
    for i, color in enumerate([(200, 30, 30), (20, 160, 90), (40, 40, 220)]):
        path = tmp_path / f"img{i}.png"
        Image.new("RGB", (40 + 7 * i, 30), color).save(path)
        paths.append(str(path))
    return paths


def socratis_samples(images):
    texts = ["they lost their homes", "a long reason: the water took the whole street away", "x"]
    return [Sample(f"s{i}", text, image=img,
                   context={"caption": f"Flood number {i}", "emotion": "sadness"})
            for i, (text, img) in enumerate(zip(texts, images))]


def expected_from_logits(model, processor, digit_ids, sample):
    """The expected rating computed by hand: the prompt filled and wrapped in
    the chat format by string replacement, one unpadded forward pass."""
    body = load_template("socratis_reason").body
    prompt = (body.replace("{caption}", sample.context["caption"])
              .replace("{emotion}", sample.context["emotion"])
              .replace("{candidate}", sample.candidate))
    chat = f"<s>user: <image>\n{prompt}</s><s>assistant: "
    with Image.open(sample.image) as img:
        inputs = processor(images=[img.convert("RGB")], text=[chat], return_tensors="pt")
    with torch.no_grad():
        logits = model(**inputs).logits[0, -1]
    probs = torch.softmax(logits.double(), dim=-1)[digit_ids].numpy()
    return float((np.arange(1, 6) * probs).sum() / probs.sum()), float(probs.sum()), \
        float(np.argmax(probs) + 1)


def test_local_expected_rating_matches_the_models_logits(tiny_llava, images):
    folder, model, processor, digit_ids = tiny_llava
    samples = socratis_samples(images)
    judge = VlmJudge(backend="local", model=folder, device="cpu", batch_size=2, max_tokens=1)
    assert judge.backend._model is None  # nothing loaded before the first score call
    out = judge.score(samples)
    assert out.failures == {}
    for i, s in enumerate(samples):
        expected, mass, argmax = expected_from_logits(model, processor, digit_ids, s)
        assert out.scores[i] == pytest.approx(expected, abs=1e-5)
        assert out.extras["rating_mass"][i] == pytest.approx(mass, rel=1e-4)
        assert out.extras["raw_rating"][i] == argmax  # greedy wrote the likeliest digit
        assert out.extras["used_probabilities"][i] == 1
    # The scores differ between samples and from the uniform 3.0: the image and text matter.
    assert len({round(x, 6) for x in out.scores}) == 3 and not np.allclose(out.scores, 3.0)
    assert "backend=local" in judge.signature() and "dtype=float32" in judge.signature()

    # A new judge on the same cache reads every answer and loads no model.
    again = VlmJudge(backend="local", model=folder, device="cpu", max_tokens=1)
    second = again.score(samples)
    assert again.backend._model is None
    np.testing.assert_array_equal(second.scores, out.scores)


def test_a_template_whose_labels_no_token_spells_is_refused(tiny_llava, images):
    folder = tiny_llava[0]
    judge = VlmJudge(backend="local", model=folder, template="yes_no", max_tokens=2)
    with pytest.raises(MetricError, match="no token .* spells a label of template 'yes_no'"):
        judge.score([Sample("a", "a red square", image=images[0])])


@pytest.mark.parametrize("model", ["nobody/no-such-judge", "/no/such/folder"])
def test_missing_weights_raise_at_once(model):
    with pytest.raises(MetricError, match="not available offline") as info:
        VlmJudge(backend="local", model=model)
    assert model in str(info.value) and "hf download" in str(info.value)


def test_unreadable_images_are_nan_with_the_shared_readers_reason(tiny_llava, images, tmp_path):
    data = open(images[0], "rb").read()
    cut = tmp_path / "cut.png"
    cut.write_bytes(data[: len(data) // 2])
    samples = socratis_samples([images[0], str(cut), images[2]])
    out = VlmJudge(backend="local", model=tiny_llava[0], max_tokens=1,
                   response_cache=False).score(samples)
    assert np.isfinite(out.scores[[0, 2]]).all() and np.isnan(out.scores[1])
    assert "damaged or truncated" in out.failures["s1"] and str(cut) in out.failures["s1"]
