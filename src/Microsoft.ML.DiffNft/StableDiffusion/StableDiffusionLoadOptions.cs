using Microsoft.ML.DiffNft.Torch;

namespace Microsoft.ML.DiffNft.StableDiffusion;

/// <summary>Where and how a diffusers Stable Diffusion folder is loaded.</summary>
internal sealed class StableDiffusionLoadOptions
{
    /// <summary>The device the networks run on; <see cref="DiffNftDevice.Auto"/> (the default) picks CUDA when available.</summary>
    public DiffNftDevice Device { get; set; } = DiffNftDevice.Auto;

    /// <summary>The weights variant to prefer, e.g. "fp16" for <c>*.fp16.safetensors</c>; null (the default) for the plain files.</summary>
    public string? Variant { get; set; }

    /// <summary>
    /// The precision of the networks' weights. Null (the default): float32 on the CPU, bfloat16 on CUDA. Latents and the
    /// DDIM arithmetic always stay in float32.
    /// </summary>
    public StableDiffusionPrecision? Precision { get; set; }

    /// <summary>The prompt classifier-free guidance steers away from; "" (the default) as diffusers.</summary>
    public string NegativePrompt { get; set; } = "";

    /// <summary>How many latents the VAE decodes at once (default 4): lower it when decoding runs out of memory.</summary>
    public int VaeDecodeBatch { get; set; } = 4;
}

/// <summary>The dtype of a Stable Diffusion model's weights.</summary>
internal enum StableDiffusionPrecision
{
    /// <summary>32-bit floats: exact, and the only sensible choice on a CPU.</summary>
    Float32,
    /// <summary>bfloat16: half the memory and tensor-core speed on recent GPUs, float32's range.</summary>
    BFloat16,
    /// <summary>float16: half the memory; the VAE may overflow in it (diffusers' <c>force_upcast</c>).</summary>
    Float16,
}
