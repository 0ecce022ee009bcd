#!/usr/bin/python3
"""Writes the Stable Diffusion reference data under tests/data/stable-diffusion/ with the reference
implementations themselves (diffusers 0.21.4, transformers 4.9.0.dev0; see README.md for the environment).

    make_goldens.py all        [--out DIR]   everything below (default DIR: tests/data/stable-diffusion)
    make_goldens.py tiny       [--out DIR]   tiny diffusers folder, SD2-style tiny parts, tensor goldens, LoRA
    make_goldens.py tokenizer  [--out DIR]   golden/tokenizer.json (needs the tiny tokenizer written by `tiny`)
    make_goldens.py manifests  [--out DIR]   manifests/{sd15,sd21}_{unet,vae,text_encoder}.json and their configs
    make_goldens.py lora-check --adapter OURS.safetensors --out RESULT.safetensors [--data DIR]
        loads an adapter written by another implementation into the tiny reference UNet with diffusers' own
        LoRA loading code and writes the UNet output on the golden UNet input.

Every computation is done by the reference classes; this file only wires them together, seeds the inputs and
writes the results (tensors with the pure-Python safetensors writer in safetensors_io.py).
"""

import argparse
import copy
import json
import os
import sys
import tempfile

import reference_env

VERSIONS = reference_env.setup()

import torch  # noqa: E402
from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel  # noqa: E402
from diffusers.loaders import LoraLoaderMixin  # noqa: E402
from diffusers.models.attention_processor import LoRAAttnProcessor  # noqa: E402
from diffusers.pipelines.pipeline_utils import DiffusionPipeline  # noqa: E402
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer  # noqa: E402

import bpe_vocab  # noqa: E402
import published_configs  # noqa: E402
import safetensors_io  # noqa: E402
import tokenizer_prompts  # noqa: E402

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_OUT = os.path.join(REPO_ROOT, "tests", "data", "stable-diffusion")

# The tiny configuration of diffusers' own Stable Diffusion pipeline tests
# (tests/pipelines/stable_diffusion/test_stable_diffusion.py::get_dummy_components at v0.21.4).
TINY_UNET = dict(
    block_out_channels=(32, 64),
    layers_per_block=2,
    sample_size=32,
    in_channels=4,
    out_channels=4,
    down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
    up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
    cross_attention_dim=32,
)
# The SD 2.x code paths: per-block attention_head_dim, linear projections in Transformer2DModel, upcast attention
# (as in diffusers' SD 2 pipeline tests, plus upcast_attention). One layer per block keeps the weights file small;
# it removes no code path.
TINY_SD2_UNET = dict(TINY_UNET, layers_per_block=1, attention_head_dim=(2, 4), use_linear_projection=True,
                     upcast_attention=True)
TINY_VAE = dict(
    block_out_channels=[32, 64],
    in_channels=3,
    out_channels=3,
    down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
    up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"],
    latent_channels=4,
)
TINY_SCHEDULER = dict(
    beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False, set_alpha_to_one=False
)
TINY_TEXT = dict(hidden_size=32, intermediate_size=37, layer_norm_eps=1e-05, num_attention_heads=4,
                 num_hidden_layers=5, vocab_size=1000)
TINY_SD2_TEXT = dict(TINY_TEXT, hidden_act="gelu", projection_dim=512)

MAX_LENGTH = 77
TEXT_PROMPTS = ["a pixel art ape with laser eyes and a gold chain", "portrait of a cat wearing a crown, oil painting"]
PIPELINE_PROMPT = "a pixel art ape with laser eyes and a gold chain"
PIPELINE_NEGATIVE_PROMPT = "blurry, low quality"
GUIDANCE_SCALE = 7.5
DDIM_STEPS = 2
DDIM_ETA = 0.0
UNET_TIMESTEPS = [999, 10]
LORA_RANK = 4
LORA_FILE = "pytorch_lora_weights.safetensors"
LORA_LEGACY_FILE = "attn_procs_lora_weights.safetensors"


# ----------------------------------------------------------------------------------------------- helpers

def seeded_normal(shape, seed):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float32)


def seeded_uniform(shape, seed, low, high):
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float32) * (high - low) + low


def write_tensors(path, tensors, metadata=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    meta = {"generator": "scripts/stable-diffusion-reference/make_goldens.py"}
    meta.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in (metadata or {}).items()})
    safetensors_io.save_file({k: v.detach().contiguous() for k, v in tensors.items()}, path, metadata=meta)
    print(f"  wrote {os.path.relpath(path, REPO_ROOT)}: " + ", ".join(f"{k}{list(v.shape)}" for k, v in tensors.items()))


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(obj, handle, indent=2, ensure_ascii=False)
        handle.write("\n")


def tokenize(tokenizer, texts):
    return torch.tensor(
        tokenizer(texts, padding="max_length", max_length=MAX_LENGTH, truncation=True).input_ids, dtype=torch.int64
    )


def save_text_encoder(model, directory):
    """Writes config.json the way transformers' save_pretrained does, and the weights as model.safetensors.

    transformers 4.9 can only write pickled weights, so the state dict (which in 4.9 includes the int64 buffer
    text_model.embeddings.position_ids) goes through the safetensors writer instead.
    """
    os.makedirs(directory, exist_ok=True)
    model.config.architectures = [model.__class__.__name__]
    model.config.save_pretrained(directory)
    safetensors_io.save_file(model.state_dict(), os.path.join(directory, "model.safetensors"),
                             metadata={"format": "pt"})


def load_text_encoder(directory):
    config = CLIPTextConfig.from_pretrained(directory)
    model = CLIPTextModel(config)
    model.load_state_dict(safetensors_io.load_file(os.path.join(directory, "model.safetensors")), strict=True)
    return model.eval()


def unet_forward(unet, sample, timestep, encoder_hidden_states):
    with torch.no_grad():
        return unet(sample, timestep, encoder_hidden_states=encoder_hidden_states).sample


# ------------------------------------------------------------------------------------- tiny diffusers folder

def build_tokenizer(directory):
    """Learns the 1000-entry vocabulary, loads it with transformers' CLIPTokenizer and saves it with save_pretrained.

    pad_token is "!" (id 0), as in Stable Diffusion 2.x's tokenizer: transformers 4.9's CLIPTokenizer always pads
    with id 0 (its pad_token_id property returns 0), so naming "!" keeps the folder and the reference in agreement.
    """
    merges = bpe_vocab.learn_merges()
    vocab = bpe_vocab.build_vocab(merges)
    with tempfile.TemporaryDirectory() as raw:
        vocab_file = os.path.join(raw, "vocab.json")
        merges_file = os.path.join(raw, "merges.txt")
        with open(vocab_file, "w", encoding="utf-8") as handle:
            json.dump(vocab, handle, ensure_ascii=False)
        with open(merges_file, "w", encoding="utf-8") as handle:
            handle.write(bpe_vocab.merges_text(merges))
        tokenizer = CLIPTokenizer(vocab_file, merges_file, pad_token="!")
        tokenizer.name_or_path = "tiny"
        tokenizer.init_kwargs.pop("name_or_path", None)
        tokenizer.save_pretrained(directory)
    tokenizer = CLIPTokenizer.from_pretrained(directory)
    assert tokenizer.vocab_size == 1000 and tokenizer.pad_token_id == 0 == vocab["!"]
    return tokenizer


def write_model_index(directory):
    """model_index.json through diffusers' own pipeline config code (StableDiffusionPipeline's component list)."""

    class StableDiffusionPipeline(DiffusionPipeline):  # the name is what diffusers records as _class_name
        pass

    pipe = StableDiffusionPipeline()
    for name, entry in [("vae", ("diffusers", "AutoencoderKL")), ("text_encoder", ("transformers", "CLIPTextModel")),
                        ("tokenizer", ("transformers", "CLIPTokenizer")), ("unet", ("diffusers", "UNet2DConditionModel")),
                        ("scheduler", ("diffusers", "DDIMScheduler")), ("safety_checker", (None, None)),
                        ("feature_extractor", (None, None))]:
        pipe.register_to_config(**{name: entry})
    pipe.register_to_config(requires_safety_checker=False)
    pipe.save_config(directory)


def make_tiny_folder(out):
    folder = os.path.join(out, "tiny")
    print(f"tiny diffusers folder -> {os.path.relpath(folder, REPO_ROOT)}")
    tokenizer = build_tokenizer(os.path.join(folder, "tokenizer"))

    torch.manual_seed(0)
    unet = UNet2DConditionModel(**TINY_UNET)
    unet.save_pretrained(os.path.join(folder, "unet"), safe_serialization=True)
    copy.deepcopy(unet).half().save_pretrained(os.path.join(folder, "unet"), safe_serialization=True, variant="fp16")

    torch.manual_seed(0)
    vae = AutoencoderKL(**TINY_VAE)
    vae.save_pretrained(os.path.join(folder, "vae"), safe_serialization=True)

    DDIMScheduler(**TINY_SCHEDULER).save_pretrained(os.path.join(folder, "scheduler"))

    torch.manual_seed(0)
    special = dict(bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                   pad_token_id=tokenizer.pad_token_id)
    save_text_encoder(CLIPTextModel(CLIPTextConfig(**TINY_TEXT, **special)), os.path.join(folder, "text_encoder"))
    write_model_index(folder)

    # SD-2-style parts (separate folders: the pipeline folder above stays the SD 1.x one).
    torch.manual_seed(0)
    UNet2DConditionModel(**TINY_SD2_UNET).save_pretrained(os.path.join(out, "tiny-sd2-unet"), safe_serialization=True)
    torch.manual_seed(0)
    save_text_encoder(CLIPTextModel(CLIPTextConfig(**TINY_SD2_TEXT, **special)), os.path.join(out, "tiny-sd2-text-encoder"))


# ----------------------------------------------------------------------------------------------- goldens

def load_tiny(out):
    folder = os.path.join(out, "tiny")
    return dict(
        tokenizer=CLIPTokenizer.from_pretrained(os.path.join(folder, "tokenizer")),
        text_encoder=load_text_encoder(os.path.join(folder, "text_encoder")),
        unet=UNet2DConditionModel.from_pretrained(os.path.join(folder, "unet")).eval(),
        vae=AutoencoderKL.from_pretrained(os.path.join(folder, "vae")).eval(),
        scheduler=DDIMScheduler.from_pretrained(os.path.join(folder, "scheduler")),
    )


def golden_unet_input():
    return dict(
        sample=seeded_normal((2, 4, 32, 32), seed=1),
        timestep=torch.tensor(UNET_TIMESTEPS, dtype=torch.int64),
        encoder_hidden_states=seeded_normal((2, MAX_LENGTH, 32), seed=2),
    )


def golden_text_encoder(tokenizer, text_encoder, path):
    ids = tokenize(tokenizer, TEXT_PROMPTS)
    with torch.no_grad():
        result = text_encoder(ids, output_hidden_states=True, return_dict=True)
    tensors = {"input_ids": ids, "last_hidden_state": result.last_hidden_state, "pooler_output": result.pooler_output}
    for i, hidden in enumerate(result.hidden_states):
        tensors[f"hidden_states.{i}"] = hidden
    write_tensors(path, tensors, {"prompts": TEXT_PROMPTS})


def golden_unet(unet, path):
    inputs = golden_unet_input()
    write_tensors(path, dict(inputs, output=unet_forward(unet, **inputs)))


def golden_vae(vae, path):
    image = seeded_uniform((1, 3, 64, 64), seed=3, low=-1.0, high=1.0)
    latent = seeded_normal((1, 4, 16, 16), seed=4)
    with torch.no_grad():
        dist = vae.encode(image).latent_dist
        decoded = vae.decode(latent).sample
        decoded_mean = vae.decode(dist.mean).sample
    write_tensors(path, {
        "image": image, "latent_mean": dist.mean, "latent_std": dist.std, "latent_logvar": dist.logvar,
        "latent": latent, "decoded": decoded, "decoded_from_mean": decoded_mean,
    }, {"scaling_factor": vae.config.scaling_factor})


def golden_pipeline(parts, path):
    """The StableDiffusionPipeline.__call__ loop of diffusers 0.21.4, driven component by component (the pipeline
    class itself needs transformers classes newer than 4.9): negative-prompt CFG, DDIM with eta 0, VAE decode."""
    tokenizer, text_encoder, unet, vae, scheduler = (parts[k] for k in
                                                     ("tokenizer", "text_encoder", "unet", "vae", "scheduler"))
    prompt_ids = tokenize(tokenizer, [PIPELINE_PROMPT])
    negative_ids = tokenize(tokenizer, [PIPELINE_NEGATIVE_PROMPT])
    with torch.no_grad():
        prompt_embeds = torch.cat([text_encoder(negative_ids)[0], text_encoder(prompt_ids)[0]])  # uncond first
    scheduler.set_timesteps(DDIM_STEPS)
    latents = seeded_normal((1, 4, 32, 32), seed=5)
    tensors = {"prompt_ids": prompt_ids, "negative_prompt_ids": negative_ids, "prompt_embeds": prompt_embeds,
               "initial_latents": latents, "timesteps": scheduler.timesteps.to(torch.int64)}
    latents = latents * scheduler.init_noise_sigma
    for i, t in enumerate(scheduler.timesteps):
        model_input = scheduler.scale_model_input(torch.cat([latents] * 2), t)
        noise = unet_forward(unet, model_input, t, prompt_embeds)
        noise_uncond, noise_text = noise.chunk(2)
        guided = noise_uncond + GUIDANCE_SCALE * (noise_text - noise_uncond)
        latents = scheduler.step(guided, t, latents, eta=DDIM_ETA, return_dict=True).prev_sample
        tensors.update({f"step{i}.noise_pred_uncond": noise_uncond, f"step{i}.noise_pred_text": noise_text,
                        f"step{i}.noise_pred": guided, f"step{i}.latents": latents})
    with torch.no_grad():
        tensors["image"] = vae.decode(latents / vae.config.scaling_factor).sample
    write_tensors(path, tensors, {
        "prompt": PIPELINE_PROMPT, "negative_prompt": PIPELINE_NEGATIVE_PROMPT, "guidance_scale": GUIDANCE_SCALE,
        "num_inference_steps": DDIM_STEPS, "eta": DDIM_ETA, "init_noise_sigma": float(scheduler.init_noise_sigma),
        "scaling_factor": vae.config.scaling_factor})


def make_lora(unet_dir, lora_dir):
    """A rank-4 LoRA on every attention processor, made the way diffusers 0.21.4's LoRA training scripts do
    (LoRAAttnProcessor + set_attn_processor), with random non-zero `up` weights, saved by diffusers' own code:

    * attn_procs_lora_weights.safetensors: UNet2DConditionLoadersMixin.save_attn_procs (legacy attention-processor
      names, e.g. down_blocks.1.attentions.0.transformer_blocks.0.attn1.processor.to_q_lora.down.weight);
    * pytorch_lora_weights.safetensors: the same weights converted by diffusers' own
      convert_state_dict_legacy_attn_format and written by LoraLoaderMixin.save_lora_weights
      (unet.down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q.lora.down.weight), the naming that
      load_lora_weights accepts and that the C# export must write.
    """
    unet = UNet2DConditionModel.from_pretrained(unet_dir).eval()
    torch.manual_seed(6)
    processors = {}
    for name in unet.attn_processors.keys():
        cross_attention_dim = None if name.endswith("attn1.processor") else unet.config.cross_attention_dim
        if name.startswith("mid_block"):
            hidden_size = unet.config.block_out_channels[-1]
        elif name.startswith("up_blocks"):
            hidden_size = list(reversed(unet.config.block_out_channels))[int(name[len("up_blocks.")])]
        else:
            hidden_size = unet.config.block_out_channels[int(name[len("down_blocks.")])]
        processors[name] = LoRAAttnProcessor(hidden_size=hidden_size, cross_attention_dim=cross_attention_dim,
                                             rank=LORA_RANK)
    for name in sorted(processors):  # LoRALinearLayer starts `up` at zero: make the adapter do something
        for layer in (processors[name].to_q_lora, processors[name].to_k_lora, processors[name].to_v_lora,
                      processors[name].to_out_lora):
            torch.nn.init.normal_(layer.up.weight, std=0.1)
    unet.set_attn_processor(processors)
    unet.save_attn_procs(lora_dir, weight_name=LORA_LEGACY_FILE, safe_serialization=True)
    direct = unet_forward(unet, **golden_unet_input())  # LoRAAttnProcessor's own forward, for the cross-check

    legacy, alphas = LoraLoaderMixin.lora_state_dict(lora_dir, weight_name=LORA_LEGACY_FILE)
    converted, _ = unet.convert_state_dict_legacy_attn_format(legacy, alphas)
    LoraLoaderMixin.save_lora_weights(lora_dir, unet_lora_layers=converted, weight_name=LORA_FILE,
                                      safe_serialization=True)
    return direct


def unet_with_lora(unet_dir, adapter_path):
    """The tiny UNet with an adapter file applied by diffusers' own loading code (what load_lora_weights runs for
    the UNet: lora_state_dict, then load_lora_into_unet)."""
    unet = UNet2DConditionModel.from_pretrained(unet_dir).eval()
    state_dict, alphas = LoraLoaderMixin.lora_state_dict(os.path.dirname(os.path.abspath(adapter_path)),
                                                         weight_name=os.path.basename(adapter_path))
    LoraLoaderMixin.load_lora_into_unet(state_dict, alphas, unet)
    return unet


def golden_lora(out):
    unet_dir = os.path.join(out, "tiny", "unet")
    lora_dir = os.path.join(out, "golden", "lora")
    direct = make_lora(unet_dir, lora_dir)
    inputs = golden_unet_input()
    output = unet_forward(unet_with_lora(unet_dir, os.path.join(lora_dir, LORA_FILE)), **inputs)
    legacy = unet_forward(unet_with_lora(unet_dir, os.path.join(lora_dir, LORA_LEGACY_FILE)), **inputs)
    base = unet_forward(UNet2DConditionModel.from_pretrained(unet_dir).eval(), **inputs)
    print(f"  LoRA: loaded vs LoRAAttnProcessor max |diff| {float((output - direct).abs().max()):.3g}, "
          f"vs legacy file {float((output - legacy).abs().max()):.3g}, effect vs base {float((output - base).abs().max()):.3g}")
    assert torch.allclose(output, direct, atol=1e-5) and torch.equal(output, legacy)
    assert float((output - base).abs().max()) > 1e-2, "the LoRA must change the output noticeably"
    write_tensors(os.path.join(out, "golden", "unet_lora.safetensors"), dict(inputs, output=output),
                  {"adapter": f"golden/lora/{LORA_FILE}", "lora_rank": LORA_RANK, "lora_scale": 1.0})


def make_goldens(out):
    print("tensor goldens")
    parts = load_tiny(out)
    golden = os.path.join(out, "golden")
    golden_text_encoder(parts["tokenizer"], parts["text_encoder"], os.path.join(golden, "text_encoder.safetensors"))
    golden_text_encoder(parts["tokenizer"], load_text_encoder(os.path.join(out, "tiny-sd2-text-encoder")),
                        os.path.join(golden, "text_encoder_sd2.safetensors"))
    golden_unet(parts["unet"], os.path.join(golden, "unet.safetensors"))
    fp16_unet = UNet2DConditionModel.from_pretrained(os.path.join(out, "tiny", "unet"), variant="fp16",
                                                     torch_dtype=torch.float16)
    assert all(p.dtype == torch.float16 for p in fp16_unet.parameters())
    golden_unet(UNet2DConditionModel.from_pretrained(os.path.join(out, "tiny-sd2-unet")).eval(),
                os.path.join(golden, "unet_sd2.safetensors"))
    golden_vae(parts["vae"], os.path.join(golden, "vae.safetensors"))
    golden_pipeline(parts, os.path.join(golden, "pipeline_ddim2.safetensors"))
    golden_lora(out)


# -------------------------------------------------------------------------------------- tokenizer golden

def make_tokenizer_golden(out):
    print("tokenizer golden")
    directory = os.path.join(out, "tiny", "tokenizer")
    reference_env.set_ftfy_available(True)
    with_ftfy = CLIPTokenizer.from_pretrained(directory)
    assert with_ftfy.fix_text is not None
    reference_env.set_ftfy_available(False)
    without_ftfy = CLIPTokenizer.from_pretrained(directory)
    assert without_ftfy.fix_text is None
    reference_env.set_ftfy_available(True)
    cases = []
    for text in tokenizer_prompts.prompts():
        ids = tokenize(with_ftfy, [text])[0].tolist()
        ids_basic = tokenize(without_ftfy, [text])[0].tolist()
        cases.append({"text": text, "ids": ids, "ids_without_ftfy": ids_basic})
    differ = sum(c["ids"] != c["ids_without_ftfy"] for c in cases)
    header = {
        "tokenizer": "tiny/tokenizer",
        "call": "CLIPTokenizer(text, padding='max_length', max_length=77, truncation=True).input_ids",
        "ids": f"transformers {VERSIONS['transformers']} CLIPTokenizer with ftfy {VERSIONS['ftfy']} installed",
        "ids_without_ftfy": "the same tokenizer when ftfy is not installed (BERT BasicTokenizer fallback)",
        "pad_id": 0,
    }
    # One case per line keeps the file small and diffable.
    lines = [json.dumps(header, indent=2, ensure_ascii=False)[:-2] + ',\n  "cases": [']
    lines.append(",\n".join("    " + json.dumps(case, ensure_ascii=False) for case in cases))
    lines.append("  ]\n}\n")
    path = os.path.join(out, "golden", "tokenizer.json")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))
    assert json.load(open(path, encoding="utf-8"))["cases"] == cases
    print(f"  wrote golden/tokenizer.json: {len(cases)} prompts, {differ} tokenised differently without ftfy")


# ----------------------------------------------------------------------------------------------- manifests

def _parameter_manifest(model):
    return {name: list(p.shape) for name, p in model.named_parameters()}


def _write_manifest(path, manifest):
    lines = [f"  {json.dumps(name)}: {json.dumps(shape)}" for name, shape in manifest.items()]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("{\n" + ",\n".join(lines) + "\n}\n")


def _build(component, config):
    config = {k: v for k, v in config.items()}
    if component == "unet":
        return UNet2DConditionModel.from_config(config)
    if component == "vae":
        return AutoencoderKL.from_config(config)
    return CLIPTextModel(CLIPTextConfig(**{k: v for k, v in config.items() if k not in ("transformers_version",)}))


def make_manifests(out):
    print("manifests")
    directory = os.path.join(out, "manifests")
    os.makedirs(directory, exist_ok=True)
    counts = {}
    for family, configs in (("sd15", published_configs.SD15), ("sd21", published_configs.SD21)):
        for component in ("unet", "vae", "text_encoder"):
            write_json(os.path.join(directory, f"{family}_{component}_config.json"), configs[component])
            torch.manual_seed(0)
            model = _build(component, configs[component])
            manifest = _parameter_manifest(model)
            counts[f"{family}_{component}"] = sum(p.numel() for p in model.parameters())
            del model
            _write_manifest(os.path.join(directory, f"{family}_{component}.json"), manifest)
            print(f"  {family}_{component}: {len(manifest)} tensors, {counts[f'{family}_{component}']:,} parameters")
    for component, expected in published_configs.SD15_PARAMETER_COUNTS.items():
        assert counts[f"sd15_{component}"] == expected, f"sd15 {component}: {counts[f'sd15_{component}']} != {expected}"
    write_json(os.path.join(directory, "parameter_counts.json"), counts)


# ----------------------------------------------------------------------------------------------- lora-check

def lora_check(adapter, result, data):
    """Applies `adapter` (diffusers naming) to the tiny UNet with diffusers' loader; writes its golden-input output."""
    inputs = golden_unet_input()
    unet = unet_with_lora(os.path.join(data, "tiny", "unet"), adapter)
    patched = sorted(name for name, module in unet.named_modules() if getattr(module, "lora_layer", None) is not None)
    output = unet_forward(unet, **inputs)
    keys = sorted(safetensors_io.load_file(adapter))
    safetensors_io.save_file(dict(inputs, output=output), result, metadata={"adapter": os.path.basename(adapter)})
    print(f"lora-check: {len(keys)} adapter tensors applied to {len(patched)} projections "
          f"({sum(n.endswith(('to_q', 'to_k', 'to_v', 'to_out.0')) for n in patched)} of them to_q/to_k/to_v/to_out.0); "
          f"output {list(output.shape)} written to {result}")
    golden_path = os.path.join(data, "golden", "unet_lora.safetensors")
    if os.path.exists(golden_path):
        golden = safetensors_io.load_file(golden_path)["output"]
        print(f"lora-check: max |output - golden/unet_lora.safetensors output| = {float((output - golden).abs().max()):.3g}")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["all", "tiny", "tokenizer", "manifests", "lora-check"])
    parser.add_argument("--out", help="output folder (lora-check: the result file)")
    parser.add_argument("--adapter", help="lora-check: the adapter .safetensors file to load")
    parser.add_argument("--data", default=DEFAULT_OUT, help="lora-check: the tests/data/stable-diffusion folder")
    args = parser.parse_args(argv)
    print("reference versions: " + ", ".join(f"{k} {v}" for k, v in VERSIONS.items()))
    if args.mode == "lora-check":
        if not args.adapter or not args.out:
            parser.error("lora-check needs --adapter FILE and --out RESULT.safetensors")
        lora_check(args.adapter, args.out, args.data)
        return
    out = os.path.abspath(args.out or DEFAULT_OUT)
    if args.mode in ("all", "tiny"):
        make_tiny_folder(out)
        make_goldens(out)
    if args.mode in ("all", "tokenizer"):
        make_tokenizer_golden(out)
    if args.mode in ("all", "manifests"):
        make_manifests(out)


if __name__ == "__main__":
    main(sys.argv[1:])
