using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.StableDiffusion;
using Microsoft.ML.DiffNft.Torch;

namespace Microsoft.ML.DiffNft.Benchmarks;

/// <summary>The model sizes <see cref="StableDiffusionBenchmark"/> builds with random weights.</summary>
internal enum StableDiffusionBenchConfig
{
    /// <summary>The tiny configuration of diffusers' pipeline tests (UNet (32, 64), VAE (32, 64), CLIP hidden 32): seconds on a CPU.</summary>
    Tiny,

    /// <summary>Stable Diffusion 1.5's published architecture (UNet 860 M, VAE 84 M, CLIP ViT-L/14 text encoder 123 M parameters).</summary>
    Sd15,
}

/// <summary>What <see cref="StableDiffusionBenchmark.Run"/> measures; the defaults are the SD 1.5 setting.</summary>
internal sealed record StableDiffusionBenchmarkOptions
{
    /// <summary>The architecture (default <see cref="StableDiffusionBenchConfig.Sd15"/>).</summary>
    public StableDiffusionBenchConfig Config { get; init; } = StableDiffusionBenchConfig.Sd15;

    /// <summary>The device (default: CUDA when usable).</summary>
    public DiffNftDevice Device { get; init; } = DiffNftDevice.Auto;

    /// <summary>The networks' dtype; null (the default): float32 on the CPU, bfloat16 on CUDA, as <see cref="StableDiffusionLoadOptions"/>.</summary>
    public StableDiffusionPrecision? Precision { get; init; }

    /// <summary>Image side in pixels; null (the default): 512 for SD 1.5, 64 for tiny. Must be a multiple of the VAE's down-scaling factor.</summary>
    public int? Resolution { get; init; }

    /// <summary>DDIM steps of generation and of each trajectory (default 50; at least 2, as PPO excludes the last step).</summary>
    public int Steps { get; init; } = 50;

    /// <summary>Images per generation batch and trajectories per PPO iteration (default 4).</summary>
    public int BatchSize { get; init; } = 4;

    /// <summary>Classifier-free guidance scale (default 7.5).</summary>
    public double GuidanceScale { get; init; } = 7.5;

    /// <summary>LoRA rank on the UNet's attention projections (default 4, the paper's).</summary>
    public int LoraRank { get; init; } = 4;

    /// <summary>PPO minibatch size (default: the fine-tuner's).</summary>
    public int TrainBatchSize { get; init; } = new FineTuneOptions().TrainBatchSize;

    /// <summary>Share of the policy-gradient steps trained per minibatch (default: the fine-tuner's).</summary>
    public double TimestepFraction { get; init; } = new FineTuneOptions().TimestepFraction;

    /// <summary>Seed of the random weights, the noise and the adapter.</summary>
    public int Seed { get; init; }

    /// <summary>The image side in effect.</summary>
    public int EffectiveResolution => Resolution ?? (Config == StableDiffusionBenchConfig.Sd15 ? 512 : 64);

    /// <summary>Checks the values; the messages name the option and the value.</summary>
    public void Validate()
    {
        if (Steps < 2 || Steps > 1000) throw new ArgumentOutOfRangeException(nameof(Steps), Steps, "Must lie in 2 … 1000 (PPO trains all but the last step).");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "Must be positive.");
        if (!(GuidanceScale >= 1) || double.IsInfinity(GuidanceScale)) throw new ArgumentOutOfRangeException(nameof(GuidanceScale), GuidanceScale, "Must be a finite number of at least 1.");
        if (LoraRank < 1) throw new ArgumentOutOfRangeException(nameof(LoraRank), LoraRank, "Must be at least 1.");
        if (TrainBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(TrainBatchSize), TrainBatchSize, "Must be positive.");
        if (Resolution is < 8 or > 4096) throw new ArgumentOutOfRangeException(nameof(Resolution), Resolution, "Must lie in 8 … 4096 pixels.");
    }
}
