using System.CommandLine;
using Microsoft.ML.DiffNft;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Imaging;

namespace DiffNft.Cli.Commands;

/// <summary><c>diffnft generate</c>: sample images from a trained diffusion model.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Diffusion model file (from train-diffusion).", Required = true };
        var prompt = new Option<string>("--prompt") { Description = "Text prompt, e.g. \"a noun, head goat\".", DefaultValueFactory = _ => "a noun" };
        var count = new Option<int>("--count") { Description = "Number of images.", DefaultValueFactory = _ => 64 };
        var seed = new Option<long>("--seed") { Description = "Seed of the first image; image i uses seed + i.", DefaultValueFactory = _ => 0 };
        var steps = new Option<int>("--steps") { Description = "DDIM steps.", DefaultValueFactory = _ => 20 };
        var guidance = new Option<double>("--guidance") { Description = "Classifier-free guidance scale.", DefaultValueFactory = _ => 2.0 };
        var output = new Option<string>("--out") { Description = "Output folder: images/{i}.png and grid.png.", Required = true };
        var command = new Command("generate", "Generate images from a diffusion model: one PNG per image in OUT/images/ and a contact sheet OUT/grid.png.")
        {
            model, prompt, count, seed, steps, guidance, output,
        };
        command.SetAction(parse => CliErrors.Guard(parse.InvocationConfiguration.Error, () =>
        {
            int n = parse.GetValue(count);
            if (n < 1) throw new ArgumentException($"--count must be at least 1, got {n}.");
            string dir = parse.GetValue(output)!;
            using var m = DiffusionModel.Load(parse.GetValue(model)!);
            var prompts = Enumerable.Repeat(parse.GetValue(prompt)!, n).ToList();
            long first = parse.GetValue(seed);
            var seeds = Enumerable.Range(0, n).Select(i => first + i).ToList();
            var err = parse.InvocationConfiguration.Error;
            var images = m.Generate(prompts, seeds, new SamplingOptions { Steps = parse.GetValue(steps), GuidanceScale = parse.GetValue(guidance) },
                new SynchronousProgress<int>(done => err.WriteLine($"generated {done}/{n}")));
            for (int i = 0; i < images.Length; i++)
                PngCodec.Save(images[i], Path.Combine(dir, "images", $"{i}.png"));
            PngCodec.Save(ContactSheet.Build(images.Take(256).ToList(), scale: 3), Path.Combine(dir, "grid.png"));
            parse.InvocationConfiguration.Output.WriteLine($"wrote {images.Length} images to {Path.Combine(dir, "images")} and {Path.Combine(dir, "grid.png")}");
            return 0;
        }));
        return command;
    }
}
