using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.DiffNft.Collections.Nouns;
using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Tests.Evaluation;

namespace DiffNft.Bench;

/// <summary>
/// FID-ResNet18 features two ways on the same rendered Nouns: ONNX Runtime (the package's graphs, one image per call,
/// the only batch size they accept) and the TorchSharp graph runner (batched). Prints ms per image for each, the
/// largest feature difference, and <c>torch_over_onnxruntime</c> (time ratio) last.
/// </summary>
internal static class FeatureBenchmark
{
    public static int Run(int images, int batch, int threads, TextWriter output)
    {
        var rng = new Random(1);
        var art = NounsArt.Default;
        var list = new List<RgbaImage>(images);
        for (int i = 0; i < images; i++)
        {
            var seed = new NounSeed(rng.Next(2), rng.Next(art.Parts(NounsLayer.Body).Count), rng.Next(art.Parts(NounsLayer.Accessory).Count),
                rng.Next(art.Parts(NounsLayer.Head).Count), rng.Next(art.Parts(NounsLayer.Glasses).Count));
            list.Add(NounsRenderer.Render(seed, art));
        }
        Microsoft.ML.DiffNft.Torch.TorchRuntime.SetThreads(threads);
        using var torchExtractor = new ResNet18FeatureExtractor(new ResNet18FeatureExtractorOptions { BatchSize = batch });
        using var onnx = new OnnxRuntimeResNet18(torchExtractor.Files, threads);
        // Warm up both (first calls allocate and pick kernels).
        torchExtractor.Extract(list.Take(Math.Min(batch, images)).ToList());
        onnx.Extract(list.Take(2).ToList());

        // Wall time, and the process's CPU time: on a shared machine the CPU time per image is the steadier figure.
        var process = Process.GetCurrentProcess();
        var cpu0 = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var a = onnx.Extract(list);
        double onnxSeconds = clock.Elapsed.TotalSeconds;
        process.Refresh();
        var cpu1 = process.TotalProcessorTime;
        clock.Restart();
        var b = torchExtractor.Extract(list);
        double torchSeconds = clock.Elapsed.TotalSeconds;
        process.Refresh();
        var cpu2 = process.TotalProcessorTime;
        double onnxCpu = (cpu1 - cpu0).TotalSeconds, torchCpu = (cpu2 - cpu1).TotalSeconds;

        double worst = 0;
        for (int i = 0; i < images; i++)
            for (int k = 0; k < a[i].Length; k++) worst = Math.Max(worst, Math.Abs(a[i][k] - b[i][k]));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"images={images} threads={threads} onnxruntime_batch1_ms_per_image={1000 * onnxSeconds / images:F1} " +
            $"torch_batch{batch}_ms_per_image={1000 * torchSeconds / images:F1} onnxruntime_cpu_ms_per_image={1000 * onnxCpu / images:F1} " +
            $"torch_cpu_ms_per_image={1000 * torchCpu / images:F1} max_abs_diff={worst:E2}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"torch_over_onnxruntime={torchSeconds / onnxSeconds:F3} cpu_time_ratio={torchCpu / onnxCpu:F3}"));
        return worst <= 1e-4 ? 0 : 2;
    }
}
