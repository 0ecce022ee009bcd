using Microsoft.ML.DiffNft.Torch;
using System.CommandLine;
using Microsoft.ML.DiffNft.Benchmarks;
using Microsoft.ML.DiffNft.Diffusion;

namespace DiffNft.Cli.Commands;

/// <summary><c>diffnft bench …</c>: measure throughput against the machine's matmul ceiling.</summary>
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
        return command;
    }
}
