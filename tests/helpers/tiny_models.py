"""Tiny random transformers models built offline from configs, saved to a folder.

Shared by the VLM judge's local tests and the reason-generation tests:
a byte-level tokenizer with one token per byte (no merges, so no download), a
plain chat template, and 2-layer configs. Random weights, except that by default the
output layer can only favour lower-case letters and the space (every other
token has logit 0, the letters' logits have a large spread): the text they
write is readable gibberish, a deterministic function of the prompt and image.
"""
from __future__ import annotations

from pathlib import Path

CHAT_TEMPLATE = (
    "{% for m in messages %}<s>{{ m['role'] }}: {% if m['content'] is string %}"
    "{{ m['content'] }}{% else %}{% for c in m['content'] %}"
    "{% if c['type'] == 'image' %}<image>\n{% else %}{{ c['text'] }}{% endif %}"
    "{% endfor %}{% endif %}</s>{% endfor %}{% if add_generation_prompt %}<s>assistant: {% endif %}")


def byte_tokenizer(extra_special: list[str] | None = None):
    """A fast tokenizer with <pad>=0, <s>=1, </s>=2, then one token per byte."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "<s>", "</s>"] + list(extra_special or [])
    vocab = {t: i for i, t in enumerate(specials)}
    for ch in sorted(pre_tokenizers.ByteLevel.alphabet()):
        vocab[ch] = len(vocab)
    core = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<s>", eos_token="</s>",
                                   pad_token="<pad>", extra_special_tokens=list(extra_special or []))


def letters_only(model, tokenizer, seed: int = 0) -> None:
    """Zero the output layer except for the rows of 'a'..'z' and the space."""
    import torch

    head = model.get_output_embeddings().weight
    ids = tokenizer.convert_tokens_to_ids(list("abcdefghijklmnopqrstuvwxyz") + ["\u0120"])
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        rows = torch.randn(len(ids), head.shape[1], generator=generator) * 3.0
        head.zero_()
        head[ids] = rows


def tiny_llava(folder: Path, seed: int = 0, set_head=None):
    """A 2-layer CLIP vision tower + 2-layer Llama, LLaVA-style; returns (model, processor).

    `set_head(model, tokenizer)` shapes the output layer before the model is
    saved (default: `letters_only`)."""
    import torch
    from transformers import (CLIPImageProcessor, CLIPVisionConfig, LlamaConfig, LlavaConfig,
                              LlavaForConditionalGeneration, LlavaProcessor)

    tokenizer = byte_tokenizer(["<image>"])
    image_processor = CLIPImageProcessor(size={"shortest_edge": 28},
                                         crop_size={"height": 28, "width": 28})
    processor = LlavaProcessor(image_processor=image_processor, tokenizer=tokenizer,
                               patch_size=14, vision_feature_select_strategy="full",
                               num_additional_image_tokens=1, chat_template=CHAT_TEMPLATE)
    config = LlavaConfig(
        vision_config=CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                       num_attention_heads=2, image_size=28, patch_size=14),
        text_config=LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                                num_hidden_layers=2, num_attention_heads=2,
                                num_key_value_heads=2, max_position_embeddings=4096,
                                pad_token_id=0, bos_token_id=1, eos_token_id=2,
                                tie_word_embeddings=False),
        image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
        vision_feature_select_strategy="full", vision_feature_layer=-1)
    torch.manual_seed(seed)
    model = LlavaForConditionalGeneration(config).eval()
    (set_head or (lambda m, t: letters_only(m, t, seed)))(model, tokenizer)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return model, processor


def tiny_t5(folder: Path, seed: int = 0):
    """A 1-layer T5 encoder-decoder (FLAN-T5's shape, text only); returns (model, tokenizer)."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    tokenizer = byte_tokenizer()
    config = T5Config(vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=64, num_layers=1,
                      num_decoder_layers=1, num_heads=2, pad_token_id=0, eos_token_id=2,
                      decoder_start_token_id=0, tie_word_embeddings=False)
    torch.manual_seed(seed)
    model = T5ForConditionalGeneration(config).eval()
    letters_only(model, tokenizer, seed)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return model, tokenizer
