using System.CommandLine;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.StableDiffusion;
using Microsoft.ML.DiffNft.Torch;

namespace DiffNft.Cli.Commands;

/// <summary>
/// The options of <c>generate</c> and <c>finetune</c> that choose how a model is loaded: <c>--device</c> for every model,
/// and <c>--variant</c>, <c>--precision</c> and <c>--negative-prompt</c>, which only a diffusers Stable Diffusion folder
/// has (the package's own model files are float32 pixel models with an empty-prompt guidance baseline). Giving one of
/// those for a package model file is an error rather than silently ignored.
/// </summary>
internal sealed class StableDiffusionCliOptions
{
    public StableDiffusionCliOptions()
    {
        Device = new("--device") { Description = "Device: auto (a GPU when one is usable), cpu or cuda.", DefaultValueFactory = _ => DiffNftDevice.Auto };
        Variant = new("--variant") { Description = "Diffusers folders: the weights variant to load, e.g. fp16 for *.fp16.safetensors (default: the plain files)." };
        Precision = new("--precision")
        {
            Description = "Diffusers folders: dtype of the networks' weights, float32, bfloat16 or float16 (default: float32 on the CPU, bfloat16 on CUDA). Latents and DDIM stay float32.",
        };
        NegativePrompt = new("--negative-prompt") { Description = "Diffusers folders: the prompt classifier-free guidance steers away from (default \"\", as diffusers)." };
    }

    /// <summary><c>--device</c>.</summary>
    public Option<DiffNftDevice> Device { get; }

    /// <summary><c>--variant</c>.</summary>
    public Option<string?> Variant { get; }

    /// <summary><c>--precision</c>.</summary>
    public Option<StableDiffusionPrecision?> Precision { get; }

    /// <summary><c>--negative-prompt</c>.</summary>
    public Option<string?> NegativePrompt { get; }

    /// <summary>The options in the order the commands list them.</summary>
    public IEnumerable<Option> All => [Device, Variant, Precision, NegativePrompt];

    /// <summary>
    /// Whether <paramref name="path"/> names a diffusers folder; a folder without <c>model_index.json</c> is an error that
    /// says so (the package's models are files, so a folder can only be meant as a diffusers pipeline).
    /// </summary>
    public static bool IsDiffusers(string path, string option)
    {
        if (StableDiffusionLoader.IsDiffusersFolder(path)) return true;
        if (Directory.Exists(path))
            throw new FileNotFoundException($"{option} '{path}' is a folder without model_index.json: not a diffusers Stable Diffusion folder (the package's own models are single files).",
                Path.Combine(path, "model_index.json"));
        return false;
    }

    /// <summary>How a diffusers folder is loaded with these options.</summary>
    public StableDiffusionLoadOptions LoadOptions(ParseResult parse) => new()
    {
        Device = parse.GetValue(Device),
        Variant = parse.GetValue(Variant),
        Precision = parse.GetValue(Precision),
        NegativePrompt = parse.GetValue(NegativePrompt) ?? "",
    };

    /// <summary>Refuses the diffusers-only options for a package model file (<paramref name="path"/>).</summary>
    public void RejectForPackageModel(ParseResult parse, string path)
    {
        string? given = parse.GetValue(Variant) is not null ? "--variant"
            : parse.GetValue(Precision) is not null ? "--precision"
            : parse.GetValue(NegativePrompt) is not null ? "--negative-prompt"
            : null;
        if (given is not null)
            throw new ArgumentException($"{given} applies to diffusers Stable Diffusion folders only; '{path}' is a package model file.");
    }

    /// <summary>
    /// Loads <paramref name="path"/>: a diffusers folder as a <see cref="StableDiffusionModel"/>, anything else as the
    /// package's own <see cref="DiffusionModel"/> file. The caller disposes the model.
    /// </summary>
    public DenoisingModel Load(ParseResult parse, string path, string option)
    {
        if (IsDiffusers(path, option)) return StableDiffusionLoader.Load(path, LoadOptions(parse));
        RejectForPackageModel(parse, path);
        return DiffusionModel.Load(path, parse.GetValue(Device));
    }
}
