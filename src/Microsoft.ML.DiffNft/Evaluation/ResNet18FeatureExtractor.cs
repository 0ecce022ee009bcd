using Microsoft.ML.DiffNft.Onnx;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Threading;
using Microsoft.ML.DiffNft.Torch;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Evaluation;

/// <summary>Options of <see cref="ResNet18FeatureExtractor"/>.</summary>
internal sealed class ResNet18FeatureExtractorOptions
{
    /// <summary>The folder holding <c>ResNet18Onnx/</c> and <c>ResNetPrepOnnx/</c>; null searches as <see cref="ResNet18ModelFiles"/> describes.</summary>
    public string? ModelDirectory { get; set; }

    /// <summary>Images per forward pass. Default 32: large enough to keep both cores busy, ≈ 0.6 GB of activations.</summary>
    public int BatchSize { get; set; } = 32;

    /// <summary>The device; the CPU by default (evaluation runs beside training, and the CPU gives reproducible features).</summary>
    public DiffNftDevice Device { get; set; } = DiffNftDevice.Cpu;
}

/// <summary>
/// FID-ResNet18 features: the ImageNet-pretrained ResNet-18 of the NuGet package
/// <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> 0.23.1 (a CNTK 2.6 ONNX export), 512-d global-average-pooled
/// activations after the last ReLU, for 224×224 input. Runs the package's two ONNX graphs — the preprocessing graph
/// (RGB planes → BGR, minus the ImageNet mean image) and the network — with TorchSharp, batched.
/// </summary>
/// <remarks>
/// <para>
/// Images of any size are first brought to 224×224 by <see cref="FeatureImageResampler"/> (alpha onto white, pixel-area
/// resampling). The features equal ONNX Runtime's on the same files within 1e-4 (a test checks it); ONNX Runtime can only
/// run this graph one image at a time, which is why the graph is interpreted here instead.
/// </para>
/// <para>Name the resulting metric "FID-ResNet18": its values are not comparable with published Inception FIDs.</para>
/// </remarks>
internal sealed class ResNet18FeatureExtractor : IImageFeatureExtractor, IDisposable
{
    /// <summary>The network's input size.</summary>
    public const int InputSize = 224;

    /// <summary>The feature length.</summary>
    public const int FeatureDimension = 512;

    private readonly TorchOnnxGraph _preprocess;
    private readonly TorchOnnxGraph _network;
    private readonly Device _device;
    private readonly int _batchSize;
    private readonly object _gate = new();

    /// <summary>Loads the two ONNX graphs.</summary>
    /// <param name="options">Options; defaults when null.</param>
    /// <exception cref="FileNotFoundException">The model files were not found (the message lists where it looked).</exception>
    public ResNet18FeatureExtractor(ResNet18FeatureExtractorOptions? options = null)
    {
        options ??= new ResNet18FeatureExtractorOptions();
        if (options.BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, "BatchSize must be at least 1.");
        _batchSize = options.BatchSize;
        Files = ResNet18ModelFiles.Find(options.ModelDirectory);
        _device = TorchRuntime.Resolve(options.Device);
        var network = OnnxModelReader.Read(Files.NetworkPath);
        var preprocess = OnnxModelReader.Read(Files.PreprocessPath);
        Check(network, Files.NetworkPath, [1, 3, InputSize, InputSize], [1, FeatureDimension, 1, 1]);
        Check(preprocess, Files.PreprocessPath, [1, 3, InputSize, InputSize], [1, 3, InputSize, InputSize]);
        _network = new TorchOnnxGraph(network, Files.NetworkPath, _device);
        _preprocess = new TorchOnnxGraph(preprocess, Files.PreprocessPath, _device);
        CacheIdentity = $"resnet18/{ResNet18ModelFiles.PackageVersion}/{new FileInfo(Files.NetworkPath).Length}/" +
                        $"{new FileInfo(Files.PreprocessPath).Length}/{FeatureImageResampler.RuleId}";
    }

    /// <summary>The model files in use.</summary>
    public ResNet18ModelFiles Files { get; }

    /// <inheritdoc/>
    public string Name => "resnet18";

    /// <inheritdoc/>
    public int Dimension => FeatureDimension;

    /// <inheritdoc/>
    public string? CacheIdentity { get; }

    /// <inheritdoc/>
    public float[][] Extract(IReadOnlyList<RgbaImage> images, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        for (int i = 0; i < images.Count; i++)
            if (images[i] is null) throw new ArgumentException($"Image {i} is null.", nameof(images));
        var result = new float[images.Count][];
        const int plane = 3 * InputSize * InputSize;
        var buffer = new float[Math.Min(_batchSize, Math.Max(1, images.Count)) * plane];
        lock (_gate)
        {
            for (int start = 0; start < images.Count; start += _batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                TorchRuntime.FitThreadsToLoad();
                int n = Math.Min(_batchSize, images.Count - start);
                ParallelLoop.For(n, i => FeatureImageResampler.ToRgbPlanes(images[start + i], InputSize, buffer.AsSpan(i * plane, plane)), cancellationToken);
                using var scope = NewDisposeScope();
                var batch = tensor(buffer.AsSpan(0, n * plane).ToArray(), [n, 3, InputSize, InputSize]).to(_device);
                using var prepared = _preprocess.Run(batch);
                using var pooled = _network.Run(prepared);
                var features = pooled.reshape(n, FeatureDimension).to(CPU).data<float>().ToArray();
                for (int i = 0; i < n; i++)
                    result[start + i] = features.AsSpan(i * FeatureDimension, FeatureDimension).ToArray();
            }
        }
        return result;
    }

    /// <summary>Frees the network's weights.</summary>
    public void Dispose()
    {
        _network.Dispose();
        _preprocess.Dispose();
    }

    private static void Check(OnnxModel model, string path, long[] input, long[] output)
    {
        var inputs = model.Graph.Inputs.Where(i => !model.Graph.Initializers.ContainsKey(i.Name)).ToList();
        if (inputs.Count != 1 || !inputs[0].Shape.SequenceEqual(input) || model.Graph.Outputs.Count != 1 || !model.Graph.Outputs[0].Shape.SequenceEqual(output))
            throw new InvalidDataException(
                $"'{path}' is not the expected {ResNet18ModelFiles.PackageId} {ResNet18ModelFiles.PackageVersion} graph: expected one input " +
                $"[{string.Join(",", input)}] and one output [{string.Join(",", output)}]; found inputs " +
                $"{string.Join(" ", inputs.Select(i => $"{i.Name}[{string.Join(",", i.Shape)}]"))} and outputs " +
                $"{string.Join(" ", model.Graph.Outputs.Select(o => $"{o.Name}[{string.Join(",", o.Shape)}]"))}.");
    }
}
