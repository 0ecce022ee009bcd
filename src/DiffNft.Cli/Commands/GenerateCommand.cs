using System.CommandLine;
using Microsoft.ML.DiffNft;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.IO;
using Microsoft.ML.DiffNft.StableDiffusion;

namespace DiffNft.Cli.Commands;

/// <summary>
/// <c>diffnft generate</c>: sample images from a trained diffusion model — a package model file, or a diffusers Stable
/// Diffusion folder with an optional LoRA adapter file — into the same output layout.
/// </summary>
internal static class GenerateCommand
{
    private const string GridFile = "grid.png";

    /// <summary>The guidance scale of the package's own models when --guidance is not given.</summary>
    private const double PackageGuidance = 2.0;

    /// <summary>The guidance scale of Stable Diffusion when --guidance is not given (diffusers' pipeline default).</summary>
    private const double StableDiffusionGuidance = 7.5;

    /// <summary>Where generate writes in its folder: images/ is its own, so no other image can join a set there.</summary>
    private static readonly string[] Claimed = ["images/", GridFile];

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Diffusion model file (from train-diffusion or finetune), or a diffusers Stable Diffusion folder (with model_index.json).", Required = true };
        var lora = new Option<string?>("--lora") { Description = "Diffusers folders: a UNet LoRA adapter file in diffusers' layout (e.g. lora.safetensors from finetune) to generate with." };
        var load = new StableDiffusionCliOptions();
        var prompt = new Option<string>("--prompt") { Description = "Text prompt, e.g. \"a noun, head goat\".", DefaultValueFactory = _ => "a noun" };
        var count = new Option<int>("--count") { Description = "Number of images.", DefaultValueFactory = _ => 64 };
        var seed = new Option<long>("--seed") { Description = "Seed of the first image; image i uses seed + i.", DefaultValueFactory = _ => 0 };
        var steps = new Option<int>("--steps") { Description = "DDIM steps.", DefaultValueFactory = _ => 20 };
        var guidance = new Option<double?>("--guidance") { Description = "Classifier-free guidance scale (default 2 for the package's models, 7.5 for Stable Diffusion as diffusers)." };
        var output = new Option<string>("--out")
        {
            Description = "Output folder: images/{i}.png and grid.png. A rerun into it replaces its images and removes those it does not write again.",
            Required = true,
        };
        var blendBase = new Option<string?>("--base") { Description = "Package models: the base model --model was fine-tuned from; with --alpha, generate with base + α·(model − base)." };
        var alpha = new Option<double?>("--alpha") { Description = "With --base: scale the fine-tuning update by α (0: the base model, 1: --model), e.g. 0.5 for the midpoint of the rarity–fidelity curve, without retraining." };
        var overwrite = OverwriteOption.Create();
        var command = new Command("generate", "Generate images from a diffusion model: one PNG per image in OUT/images/ and a contact sheet OUT/grid.png.")
        {
            model, lora, prompt, count, seed, steps, guidance, blendBase, alpha, output, overwrite,
        };
        foreach (var option in load.All) command.Options.Add(option);
        command.SetAction(parse => CliErrors.Guard(parse.InvocationConfiguration.Error, () =>
        {
            int n = parse.GetValue(count);
            if (n < 1) throw new ArgumentException($"--count must be at least 1, got {n}.");
            string modelPath = parse.GetValue(model)!;
            bool diffusers = StableDiffusionCliOptions.IsDiffusers(modelPath, "--model");
            var sampling = new SamplingOptions
            {
                Steps = parse.GetValue(steps),
                GuidanceScale = parse.GetValue(guidance) ?? (diffusers ? StableDiffusionGuidance : PackageGuidance),
            };
            sampling.Validate();
            string? loraPath = parse.GetValue(lora);
            if (loraPath is not null && !diffusers)
                throw new ArgumentException($"--lora applies to diffusers Stable Diffusion folders only; '{modelPath}' is a package model file (finetune writes such models with their adapter merged in).");
            if ((parse.GetValue(blendBase) is null) != (parse.GetValue(alpha) is null))
                throw new ArgumentException("--base and --alpha go together: --alpha scales the update from --base to --model.");
            if (parse.GetValue(blendBase) is not null && diffusers)
                throw new ArgumentException($"--base/--alpha apply to package model files; '{modelPath}' is a diffusers folder.");
            using var m = Blended(load.Load(parse, modelPath, "--model"), parse.GetValue(blendBase), parse.GetValue(alpha), parse, load);
            // Attached before the output folder is touched, so a bad adapter file is reported without changing anything.
            using var adapter = loraPath is null ? null : DiffusersLoraFile.Attach((StableDiffusionModel)m, loraPath);
            // The folder is probed, locked and checked before any image is made: a file in its place, a read-only folder,
            // a full disk or another run writing it is reported now, not after the sampling.
            using var folder = OutputFolder.Open(parse.GetValue(output)!, "generate", parse.GetValue(overwrite), Claimed);
            var files = Enumerable.Range(0, n).Select(i => $"images/{i}.png").Append(GridFile).ToList();
            folder.Begin(files);
            var prompts = Enumerable.Repeat(parse.GetValue(prompt)!, n).ToList();
            long first = parse.GetValue(seed);
            var seeds = Enumerable.Range(0, n).Select(i => first + i).ToList();
            var err = parse.InvocationConfiguration.Error;
            var images = m.Generate(prompts, seeds, sampling, new SynchronousProgress<int>(done => err.WriteLine($"generated {done}/{n}")));
            for (int i = 0; i < images.Length; i++)
                PngCodec.Save(images[i], Path.Combine(folder.Root, files[i]));
            PngCodec.Save(ContactSheet.Build(images.Take(256).ToList(), scale: 3), Path.Combine(folder.Root, GridFile));
            // Images of an earlier run with a larger --count are removed now; the marker lists exactly these files.
            folder.Complete(files);
            parse.InvocationConfiguration.Output.WriteLine($"wrote {images.Length} images to {Path.Combine(folder.Root, "images")} and {Path.Combine(folder.Root, GridFile)}");
            return 0;
        }));
        return command;
    }

    /// <summary>The model itself, or base + α·(model − base) when --base and --alpha are given (the loaded models are then freed).</summary>
    private static DenoisingModel Blended(DenoisingModel model, string? basePath, double? alpha, ParseResult parse, StableDiffusionCliOptions load)
    {
        if (basePath is null || alpha is not { } a) return model;
        using (model)
        using (var baseModel = load.Load(parse, basePath, "--base"))
            return DiffusionModel.Blend((DiffusionModel)baseModel, (DiffusionModel)model, a);
    }
}
