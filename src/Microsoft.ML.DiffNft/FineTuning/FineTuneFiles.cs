namespace Microsoft.ML.DiffNft.FineTuning;

/// <summary>Where a fine-tuning run on disk writes: the tuned model, its checkpoint (resumed from), its log and its sample grids.</summary>
internal sealed record FineTuneFiles(string Model, string Checkpoint, string Log, string SampleGrids)
{
    /// <summary>The adapter file of a Stable Diffusion run's folder.</summary>
    public const string AdapterFile = "lora.safetensors";

    /// <summary>The checkpoint of a Stable Diffusion run's folder (a rerun with the same settings resumes from it).</summary>
    public const string CheckpointFile = "finetune.ckpt";

    /// <summary>The per-iteration log of a Stable Diffusion run's folder.</summary>
    public const string LogFile = "log.csv";

    /// <summary>The fixed-seed sample grids of a Stable Diffusion run's folder.</summary>
    public const string SamplesFolder = "samples";

    /// <summary>The CLI's layout for a package model: OUT, OUT.ckpt, OUT.log.csv and OUT.samples/.</summary>
    public static FineTuneFiles Beside(string model) => new(model, model + ".ckpt", model + ".log.csv", model + ".samples");

    /// <summary>
    /// The layout of a Stable Diffusion run, a folder: the LoRA adapter in diffusers' layout, the checkpoint, the log and
    /// the sample grids.
    /// </summary>
    public static FineTuneFiles InFolder(string folder) => new(
        Path.Combine(folder, AdapterFile), Path.Combine(folder, CheckpointFile), Path.Combine(folder, LogFile), Path.Combine(folder, SamplesFolder));
}
