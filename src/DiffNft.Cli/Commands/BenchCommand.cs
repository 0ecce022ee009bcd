using Microsoft.ML.DiffNft.Torch;
using System.CommandLine;
using Microsoft.ML.DiffNft.Benchmarks;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.StableDiffusion;

namespace DiffNft.Cli.Commands;

/// <summary>
/// <c>diffnft bench …</c>: measure throughput — the package's diffusion model against the machine's matmul ceiling
/// (<c>bench diffusion</c>), Stable Diffusion generation and fine-tuning speed (<c>bench sd</c>).
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var command = new Command("bench", "Measure speed: achieved FLOP/s of training and sampling over the matmul FLOP/s measured in the same run.");
        var preset = new Option<DiffusionPreset>("--preset") { Description = "Model size: Tiny, Small or Base.", DefaultValueFactory = _ => DiffusionPreset.Small };
        var batch = new Option<int>("--batch") { Description = "Images per batch.", DefaultValueFactory = _ => 64 };
        var steps = new Option<int>("--steps") { Description = "Timed training steps (after 3 warm-up steps).", DefaultValueFactory = _ => 12 };
        var device = new Option<DiffNftDevice>("--device") { Description = "Device: auto (a GPU when one is usable), cpu or cuda.", DefaultValueFactory = _ => DiffNftDevice.Auto };
        var diffusion = new Command("diffusion", "Benchmark diffusion training and DDIM sampling; the last line is 'train_util=<fraction> sample_util=<fraction>'.")
        {
            preset, batch, steps, device,
        };
        diffusion.SetAction(parse => CliErrors.Guard(parse.InvocationConfiguration.Error, () =>
        {
            var output = parse.InvocationConfiguration.Output;
            var r = DiffusionBenchmark.Run(parse.GetValue(preset), parse.GetValue(batch), parse.GetValue(steps), device: parse.GetValue(device), log: output);
            output.WriteLine($"preset={r.Preset} params={r.Parameters} fwd_gflops_per_image={r.ForwardGflopsPerImage:F4} matmul_gflops={r.MatmulGflops:F1}");
            output.WriteLine($"train_util={r.TrainUtilisation:F3} sample_util={r.SampleUtilisation:F3}");
            return 0;
        }));
        command.Subcommands.Add(diffusion);
        command.Subcommands.Add(StableDiffusion());
        command.Subcommands.Add(ClusterBench.Create());
        return command;
    }

    /// <summary>
    /// <c>bench sd</c>: Stable Diffusion generation and PPO fine-tuning speed on random weights (nothing is downloaded);
    /// the last line carries images_per_s, trajectories_per_s and peak memory.
    /// </summary>
    private static Command StableDiffusion()
    {
        var defaults = new StableDiffusionBenchmarkOptions();
        var config = new Option<StableDiffusionBenchConfig>("--config")
        {
            Description = "Architecture with random weights: sd15 (Stable Diffusion 1.5's UNet, VAE and text encoder) or tiny (diffusers' test configuration; seconds on a CPU).",
            DefaultValueFactory = _ => defaults.Config,
        };
        var device = new Option<DiffNftDevice>("--device") { Description = "Device: auto (a GPU when one is usable), cpu or cuda.", DefaultValueFactory = _ => defaults.Device };
        var precision = new Option<StableDiffusionPrecision?>("--precision") { Description = "Dtype of the networks: float32, bfloat16 or float16 (default: float32 on the CPU, bfloat16 on CUDA)." };
        var steps = new Option<int>("--steps") { Description = "DDIM steps of generation and of each trajectory (at least 2).", DefaultValueFactory = _ => defaults.Steps };
        var batch = new Option<int>("--batch") { Description = "Images per generation batch and trajectories per PPO iteration.", DefaultValueFactory = _ => defaults.BatchSize };
        var resolution = new Option<int?>("--resolution") { Description = "Image side in pixels (default 512 for sd15, 64 for tiny)." };
        var guidance = new Option<double>("--guidance") { Description = "Classifier-free guidance scale.", DefaultValueFactory = _ => defaults.GuidanceScale };
        var loraRank = new Option<int>("--lora-rank") { Description = "LoRA rank on the UNet's attention projections.", DefaultValueFactory = _ => defaults.LoraRank };
        var trainBatch = new Option<int>("--train-batch") { Description = "PPO minibatch size (trajectories per optimizer step).", DefaultValueFactory = _ => defaults.TrainBatchSize };
        var sd = new Command("sd",
            "Benchmark Stable Diffusion with random weights: plain generation (DDIM, guidance) and one full PPO iteration (rollout with log-probabilities, " +
            "VAE decoding, update with LoRA). The last line is '… images_per_s=<x> trajectories_per_s=<y> peak_memory_mib=<z> memory=<source>'.")
        {
            config, device, precision, steps, batch, resolution, guidance, loraRank, trainBatch,
        };
        sd.SetAction(parse => CliErrors.Guard(parse.InvocationConfiguration.Error, () =>
        {
            var output = parse.InvocationConfiguration.Output;
            var result = StableDiffusionBenchmark.Run(new StableDiffusionBenchmarkOptions
            {
                Config = parse.GetValue(config),
                Device = parse.GetValue(device),
                Precision = parse.GetValue(precision),
                Steps = parse.GetValue(steps),
                BatchSize = parse.GetValue(batch),
                Resolution = parse.GetValue(resolution),
                GuidanceScale = parse.GetValue(guidance),
                LoraRank = parse.GetValue(loraRank),
                TrainBatchSize = parse.GetValue(trainBatch),
            }, output);
            output.WriteLine(result.Summary());
            return 0;
        }));
        return sd;
    }
}
