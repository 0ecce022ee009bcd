using System.Diagnostics;
using Microsoft.ML.DiffNft.Data;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Torch;

namespace Microsoft.ML.DiffNft.Benchmarks;

/// <summary>Results of <see cref="DiffusionBenchmark.Run"/>.</summary>
/// <param name="Preset">The model size.</param>
/// <param name="Parameters">Trainable parameters.</param>
/// <param name="ForwardGflopsPerImage">Forward GFLOPs per image (<see cref="FlopCounter"/>).</param>
/// <param name="MatmulGflops">Measured matmul ceiling, GFLOP/s.</param>
/// <param name="TrainStepSeconds">Median training step time.</param>
/// <param name="TrainGflops">Achieved training GFLOP/s (3× forward FLOPs per image × batch / step time).</param>
/// <param name="SampleSeconds">Time to sample one batch.</param>
/// <param name="SampleGflops">Achieved sampling GFLOP/s.</param>
/// <param name="BatchSize">Images per batch.</param>
/// <param name="SamplingSteps">DDIM steps (with guidance: two network passes per step).</param>
internal sealed record DiffusionBenchmarkResult(DiffusionPreset Preset, long Parameters, double ForwardGflopsPerImage, double MatmulGflops,
    double TrainStepSeconds, double TrainGflops, double SampleSeconds, double SampleGflops, int BatchSize, int SamplingSteps)
{
    /// <summary>Training utilisation: achieved over matmul FLOP/s.</summary>
    public double TrainUtilisation => TrainGflops / MatmulGflops;

    /// <summary>Sampling utilisation: achieved over matmul FLOP/s.</summary>
    public double SampleUtilisation => SampleGflops / MatmulGflops;
}

/// <summary>
/// Times the real trainer and sampler on random 32×32 images (speed does not depend on content) and relates the achieved
/// FLOP/s to the matmul ceiling measured in the same run.
/// </summary>
internal static class DiffusionBenchmark
{
    /// <summary>Runs the benchmark on a preset, or on an explicit <paramref name="architecture"/>.</summary>
    public static DiffusionBenchmarkResult Run(DiffusionPreset preset, int batchSize = 64, int trainSteps = 12, int samplingSteps = 20,
        DiffNftDevice device = DiffNftDevice.Auto, TextWriter? log = null, UNetOptions? architecture = null)
    {
        var unet = architecture ?? UNetOptions.For(preset);
        var rng = new Random(1);
        var images = Enumerable.Range(0, batchSize).Select(_ =>
        {
            var img = new RgbaImage(unet.ImageSize, unet.ImageSize);
            rng.NextBytes(img.Pixels);
            return img;
        }).ToArray();
        var captions = images.Select((_, i) => $"a noun, body {i % 7}, head {i % 5}").ToArray();
        double matmul = MatmulCeiling.MeasureGflops(device: device);
        int n = MatmulCeiling.SizeFor(TorchRuntime.Resolve(device));
        log?.WriteLine($"matmul {n}^3 float32 on {TorchRuntime.Resolve(device).type}: {matmul:F1} GFLOP/s");

        const int warmup = 3;
        var stamps = new List<TimeSpan>();
        var options = new DiffusionTrainerOptions
        {
            Preset = preset, UNet = architecture, BatchSize = batchSize, MaxSteps = warmup + trainSteps, ReportEvery = 1, Device = device,
            Progress = new SynchronousProgress<DiffusionTrainingProgress>(p => stamps.Add(p.Elapsed)),
        };
        using var model = new DiffusionTrainer(options).Train(images, captions);
        var stepTimes = stamps.Skip(warmup).Zip(stamps.Skip(warmup - 1), (a, b) => (a - b).TotalSeconds).OrderBy(x => x).ToList();
        double step = stepTimes[stepTimes.Count / 2];
        double fwd = FlopCounter.ForwardFlopsPerImage(model);
        double trainGflops = 3 * fwd * batchSize / step / 1e9;
        log?.WriteLine($"train step (batch {batchSize}): {step * 1000:F0} ms, {trainGflops:F1} GFLOP/s");

        var gen = new SamplingOptions { Steps = samplingSteps, GuidanceScale = 2.0, BatchSize = batchSize };
        model.Generate(captions.Take(4).ToList(), new long[] { 1, 2, 3, 4 }, gen with { Steps = 2 }); // warm-up
        var sw = Stopwatch.StartNew();
        model.Generate(captions, Enumerable.Range(0, batchSize).Select(i => (long)i).ToList(), gen);
        double sample = sw.Elapsed.TotalSeconds;
        double sampleGflops = 2 * fwd * samplingSteps * batchSize / sample / 1e9;
        log?.WriteLine($"sample {batchSize} images, {samplingSteps} steps with guidance: {sample:F2} s, {sampleGflops:F1} GFLOP/s");
        return new DiffusionBenchmarkResult(preset, model.ParameterCount, fwd / 1e9, matmul, step, trainGflops, sample, sampleGflops, batchSize, samplingSteps);
    }
}
