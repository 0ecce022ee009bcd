using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML.DiffNft.Collections;
using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Rarity;
using Microsoft.ML.DiffNft.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.TraitClassification;

/// <summary>What a <see cref="TraitClassifier"/> predicts for one trait type of one image.</summary>
/// <param name="ClassIndex">The most probable class: 0 = the trait is missing, k ≥ 1 = <see cref="TraitHead.Values"/>[k − 1].</param>
/// <param name="Value">The predicted value, or null when the trait is predicted missing.</param>
/// <param name="Probability">The softmax probability of that class.</param>
internal readonly record struct TraitHeadPrediction(int ClassIndex, string? Value, float Probability);

/// <summary>What a <see cref="TraitClassifier"/> predicts for one image: one entry per head, in <see cref="TraitClassifier.Heads"/> order.</summary>
/// <param name="Heads">The per-head predictions.</param>
internal sealed record TraitClassifierPrediction(IReadOnlyList<TraitHeadPrediction> Heads)
{
    /// <summary>The smallest top probability over the heads: the classifier's confidence in the whole reading.</summary>
    public float MinProbability => Heads.Count == 0 ? 1f : Heads.Min(h => h.Probability);
}

/// <summary>
/// A trained trait classifier: a small convolutional network with one softmax head per trait type that reads a
/// collection's traits from pixels. It is the independent judge of generated images' traits for collections without
/// parts (<see cref="TraitClassifierDecoder"/>), trained by <see cref="TraitClassifierTrainer"/> on the collection with
/// a share of tokens held out, and saved to and loaded from the package's model file (format
/// <c>diffnft.trait-classifier</c>) with its held-out metrics.
/// </summary>
/// <remarks>Instances are not thread-safe: torch modules are not.</remarks>
public sealed class TraitClassifier : IDisposable
{
    /// <summary>The model-file format name written into every archive.</summary>
    public const string FormatName = "diffnft.trait-classifier";

    /// <summary>The model-file format version this build writes and reads.</summary>
    public const int FormatVersion = 1;

    private const int MaxHeads = 1024;
    private const int MaxClassesPerHead = 100_000;

    private readonly int[] _offsets;
    private int _batchSize = 256;

    internal TraitClassifier(TraitClassifierArchitecture architecture, IReadOnlyList<TraitHead> heads, float[] pixelMean, float[] pixelStd,
        TraitClassifierNetwork network, Device device, TraitClassifierMetrics? metrics)
    {
        Architecture = architecture ?? throw new ArgumentNullException(nameof(architecture));
        Heads = heads ?? throw new ArgumentNullException(nameof(heads));
        PixelMean = pixelMean ?? throw new ArgumentNullException(nameof(pixelMean));
        PixelStd = pixelStd ?? throw new ArgumentNullException(nameof(pixelStd));
        Network = network ?? throw new ArgumentNullException(nameof(network));
        Device = device;
        Metrics = metrics;
        _offsets = Offsets(heads);
        Network.to(device);
        Network.eval();
        Network.zero_grad();
        foreach (var p in Network.parameters()) p.requires_grad = false;
    }

    /// <summary>The network's shape.</summary>
    internal TraitClassifierArchitecture Architecture { get; }

    /// <summary>One head per trait type, in the training collection's trait-type order.</summary>
    internal IReadOnlyList<TraitHead> Heads { get; }

    /// <summary>Per-channel pixel means (of the [−1, 1] pixels) of the training split.</summary>
    public IReadOnlyList<float> PixelMean { get; }

    /// <summary>Per-channel pixel standard deviations of the training split.</summary>
    public IReadOnlyList<float> PixelStd { get; }

    /// <summary>The held-out metrics measured when the model was trained (null when unknown).</summary>
    internal TraitClassifierMetrics? Metrics { get; }

    /// <summary>The device the network lives on.</summary>
    public Device Device { get; }

    /// <summary>Number of parameters of the network.</summary>
    public long ParameterCount => Network.parameters().Sum(p => p.numel());

    /// <summary>Images per forward pass. Default 256.</summary>
    public int BatchSize
    {
        get => _batchSize;
        set => _batchSize = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "The batch size must be positive.");
    }

    internal TraitClassifierNetwork Network { get; }

    /// <summary>Where each head's logits start in the network output (one more entry: the total).</summary>
    internal IReadOnlyList<int> HeadOffsets => _offsets;

    internal static int[] Offsets(IReadOnlyList<TraitHead> heads)
    {
        var offsets = new int[heads.Count + 1];
        for (int h = 0; h < heads.Count; h++) offsets[h + 1] = offsets[h] + heads[h].ClassCount;
        return offsets;
    }

    /// <summary>Predicts every head's most probable class for each image, in input order. Images of any size are resampled to the network input.</summary>
    /// <param name="images">The images.</param>
    /// <param name="cancellationToken">Stops the work between batches.</param>
    internal IReadOnlyList<TraitClassifierPrediction> Predict(IReadOnlyList<RgbaImage> images, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        for (int i = 0; i < images.Count; i++)
            if (images[i] is null) throw new ArgumentException($"Image {i} is null.", nameof(images));
        var results = new TraitClassifierPrediction[images.Count];
        for (int start = 0; start < images.Count; start += BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(BatchSize, images.Count - start);
            using var scope = NewDisposeScope();
            var raw = TraitClassifierPreprocessing.ToTensor(Enumerable.Range(start, count).Select(i => images[i]).ToList(), Architecture.ImageSize, Device);
            var (classes, probabilities) = TopClasses(raw);
            for (int j = 0; j < count; j++)
            {
                var heads = new TraitHeadPrediction[Heads.Count];
                for (int h = 0; h < Heads.Count; h++)
                {
                    int k = (int)classes[j * Heads.Count + h];
                    heads[h] = new TraitHeadPrediction(k, Heads[h].ValueOf(k), probabilities[j * Heads.Count + h]);
                }
                results[start + j] = new TraitClassifierPrediction(heads);
            }
        }
        return results;
    }

    /// <summary>The top class and its probability of every head for a raw batch [N, 3, S, S] in [−1, 1], flattened [N × heads].</summary>
    internal (long[] Classes, float[] Probabilities) TopClasses(Tensor raw) =>
        TopClasses(Network, Heads, _offsets, PixelMean, PixelStd, raw);

    /// <summary>The top classes of a network that need not be wrapped in a model yet (the trainer's held-out pass).</summary>
    internal static (long[] Classes, float[] Probabilities) TopClasses(TraitClassifierNetwork network, IReadOnlyList<TraitHead> heads,
        IReadOnlyList<int> offsets, IReadOnlyList<float> mean, IReadOnlyList<float> std, Tensor raw)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var logits = network.call(TraitClassifierPreprocessing.Normalise(raw, mean, std));
        var classes = new List<Tensor>(heads.Count);
        var probabilities = new List<Tensor>(heads.Count);
        for (int h = 0; h < heads.Count; h++)
        {
            var p = logits.narrow(1, offsets[h], heads[h].ClassCount).softmax(1);
            var (values, indices) = p.max(1);
            classes.Add(indices);
            probabilities.Add(values);
        }
        return (stack(classes, 1).cpu().data<long>().ToArray(), stack(probabilities, 1).cpu().data<float>().ToArray());
    }

    /// <summary>Saves the model (architecture, heads, pixel statistics, weights and held-out metrics) to one archive, atomically.</summary>
    public void Save(string path)
    {
        var manifest = new Manifest(FormatName, FormatVersion, Architecture, PixelMean.ToArray(), PixelStd.ToArray(),
            Heads.Select(h => new HeadEntry(h.TraitType, h.Values.ToArray())).ToArray());
        ModelFile.Save(path, manifest, JsonOptions, Network, Metrics?.ToJson());
    }

    /// <summary>The default input of the ONNX graph (<see cref="ExportToOnnx"/>): the column ML.NET's <c>ExtractPixels</c> should write.</summary>
    public const string OnnxPixelsName = "Pixels";

    /// <summary>The ONNX graph's output [N, Σ classes]: every head's logits side by side, in trait-type order.</summary>
    public const string OnnxLogitsName = "TraitLogits";

    /// <summary>The ONNX graph's output [N, Σ classes]: every head's softmax probabilities side by side.</summary>
    public const string OnnxProbabilitiesName = "TraitProbabilities";

    /// <summary>
    /// Writes the classifier as a standard ONNX model (opset 17, trained weights included; atomic), for classifying
    /// traits without libtorch with <c>mlContext.Transforms.ApplyOnnxModel</c> or ONNX Runtime.
    /// </summary>
    /// <param name="path">The .onnx file to write; its folder is created when missing.</param>
    /// <param name="pixelColumnName">The graph's input name.</param>
    /// <remarks>
    /// The input is float [N, 3, S, S] with S = <see cref="TraitClassifierArchitecture.ImageSize"/>: RGB planes with
    /// values 0 … 255, as <c>ExtractPixels</c> gives them with its defaults; images must already be S×S. The outputs
    /// <see cref="OnnxLogitsName"/> and <see cref="OnnxProbabilitiesName"/> hold head h's
    /// <see cref="TraitHead.ClassCount"/> classes after those of the heads before it; the most probable class k of a
    /// head decodes with <see cref="TraitHead.ValueOf"/> (class 0: the trait is missing), as <see cref="Predict"/> does.
    /// </remarks>
    public void ExportToOnnx(string path, string pixelColumnName = OnnxPixelsName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentException.ThrowIfNullOrWhiteSpace(pixelColumnName);
        if (pixelColumnName is OnnxLogitsName or OnnxProbabilitiesName)
            throw new ArgumentException($"The pixel column '{pixelColumnName}' has the name of an output.", nameof(pixelColumnName));
        Onnx.OnnxModelWriter.Write(Onnx.TraitClassifierOnnxExporter.Build(this, pixelColumnName, OnnxLogitsName, OnnxProbabilitiesName), path);
    }

    /// <summary>
    /// Trains a classifier on a collection with images and traits, holding out a share of the tokens to measure it
    /// (see <see cref="TraitClassifierOptions"/>); the judge of generated images for collections without a decoder.
    /// </summary>
    /// <param name="collection">The collection: every token needs an image, all of one size.</param>
    /// <param name="options">The options; null for the defaults.</param>
    public static TraitClassifier Train(NftCollection collection, TraitClassifierOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(collection);
        return new TraitClassifierTrainer(options ?? new TraitClassifierOptions()).Train(collection);
    }

    /// <summary>
    /// This classifier as the trait decoder of the evaluation (<see cref="NftGenerationEvaluatorOptions"/>):
    /// an image whose most likely value of some trait type has a probability under <paramref name="confidenceThreshold"/>
    /// counts as undecodable. The decoder uses this classifier and does not own it.
    /// </summary>
    public IImageTraitDecoder AsTraitDecoder(double confidenceThreshold = TraitClassifierDecoder.DefaultConfidenceThreshold) =>
        new TraitClassifierDecoder(this, confidenceThreshold);

    /// <summary>
    /// Loads a model written by <see cref="Save"/>, checking the format name and version, the architecture, the pixel
    /// statistics, every head's vocabulary and every tensor's name and shape; a damaged file gives an
    /// <see cref="InvalidDataException"/> that names it.
    /// </summary>
    /// <param name="path">The model file.</param>
    /// <param name="device">Where the network runs.</param>
    public static TraitClassifier Load(string path, DiffNftDevice device = DiffNftDevice.Auto)
    {
        var (entries, manifest) = ModelFile.Open<Manifest>(path, FormatName, FormatVersion, "trait classifier", JsonOptions);
        var (architecture, heads, mean, std) = CheckManifest(manifest, path);
        TraitClassifierMetrics? metrics = ModelFile.Metrics(entries) is { } m
            ? TraitClassifierMetrics.FromJson(m, $"Model file '{path}', entry '{ModelFile.MetricsEntry}'")
            : null;

        TorchRuntime.EnsureLoaded();
        var resolved = TorchRuntime.Resolve(device);
        var network = new TraitClassifierNetwork(architecture, Offsets(heads)[^1]);
        ModelArchive.LoadInto(network, entries, ModelFile.WeightsEntry, path);
        return new TraitClassifier(architecture, heads, mean, std, network, resolved, metrics);
    }

    private static (TraitClassifierArchitecture, TraitHead[], float[], float[]) CheckManifest(Manifest manifest, string path)
    {
        string where = $"Model file '{path}', entry '{ModelFile.ManifestEntry}'";
        if (manifest.Architecture is null) throw new InvalidDataException($"{where}: 'architecture' is missing.");
        try
        {
            manifest.Architecture.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"{where}: 'architecture': {ex.Message}", ex);
        }
        static bool Good(float[]? v, bool positive) => v is { Length: 3 } && v.All(x => float.IsFinite(x) && (!positive || x > 0));
        if (!Good(manifest.PixelMean, false)) throw new InvalidDataException($"{where}: 'pixel_mean' must be 3 finite numbers.");
        if (!Good(manifest.PixelStd, true)) throw new InvalidDataException($"{where}: 'pixel_std' must be 3 finite positive numbers.");
        if (manifest.Heads is not { Length: > 0 and <= MaxHeads })
            throw new InvalidDataException($"{where}: 'heads' must list 1 … {MaxHeads} trait types.");
        var heads = new TraitHead[manifest.Heads.Length];
        var types = new HashSet<string>(StringComparer.Ordinal);
        for (int h = 0; h < heads.Length; h++)
        {
            var e = manifest.Heads[h];
            if (e is null || string.IsNullOrWhiteSpace(e.TraitType))
                throw new InvalidDataException($"{where}: head {h} has no 'trait_type'.");
            if (!types.Add(TraitText.Normalize(e.TraitType)))
                throw new InvalidDataException($"{where}: trait type '{e.TraitType}' (head {h}) appears twice.");
            if (e.Values is not { Length: > 0 and < MaxClassesPerHead })
                throw new InvalidDataException($"{where}: head '{e.TraitType}' must list 1 … {MaxClassesPerHead - 1} values.");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var v in e.Values)
            {
                if (string.IsNullOrWhiteSpace(v))
                    throw new InvalidDataException($"{where}: head '{e.TraitType}' has an empty value.");
                if (!seen.Add(TraitText.Normalize(v)))
                    throw new InvalidDataException($"{where}: head '{e.TraitType}' lists value '{v}' twice.");
            }
            heads[h] = new TraitHead(e.TraitType, e.Values);
        }
        return (manifest.Architecture, heads, manifest.PixelMean!, manifest.PixelStd!);
    }

    /// <inheritdoc/>
    public void Dispose() => Network.Dispose();

    internal static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    private sealed record HeadEntry(string TraitType, string[] Values);

    private sealed record Manifest(string Format, int Version, TraitClassifierArchitecture Architecture, float[]? PixelMean, float[]? PixelStd, HeadEntry[]? Heads) : IModelManifest;
}
