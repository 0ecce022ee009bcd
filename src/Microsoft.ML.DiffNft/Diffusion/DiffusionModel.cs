using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML.DiffNft.Diffusion.Modules;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Diffusion;

/// <summary>
/// A trained text-to-image diffusion model: the network, its prompt tokenizer and its options. Generates images from
/// prompts, deterministically per seed, and saves to / loads from the package's model file.
/// </summary>
internal sealed class DiffusionModel : IDisposable
{
    /// <summary>The model-file format name written into every archive.</summary>
    public const string FormatName = "diffnft.diffusion";

    /// <summary>The model-file format version this build writes and reads.</summary>
    public const int FormatVersion = 1;

    internal DiffusionModel(DiffusionModelOptions options, PromptTokenizer tokenizer, Device device)
    {
        Options = options ?? throw new ArgumentNullException(nameof(options));
        Tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        Schedule = options.CreateSchedule();
        Device = device;
        Network = new ConditionalUNet(options.UNet, tokenizer.VocabularySize, PromptTokenizer.PadId);
        Network.to(device);
    }

    /// <summary>The options the model was built with.</summary>
    public DiffusionModelOptions Options { get; }

    /// <summary>The prompt tokenizer (vocabulary from the training captions).</summary>
    public PromptTokenizer Tokenizer { get; }

    /// <summary>The noise schedule.</summary>
    public NoiseSchedule Schedule { get; }

    /// <summary>The device the network lives on.</summary>
    public Device Device { get; }

    internal ConditionalUNet Network { get; }

    /// <summary>Number of trainable parameters.</summary>
    public long ParameterCount => Network.parameters().Sum(p => p.numel());

    /// <summary>Encodes prompts into an id tensor [B, MaxTokens] on the model's device.</summary>
    internal Tensor EncodePrompts(IReadOnlyList<string> prompts) =>
        tensor(Tokenizer.EncodeBatch(prompts, Options.UNet.MaxTokens), new long[] { prompts.Count, Options.UNet.MaxTokens }, device: Device);

    /// <summary>
    /// The guided network output at (x_t, t): uncond + s·(cond − uncond), with the conditional and unconditional halves in
    /// one doubled batch. A scale of 1 runs the conditional branch alone.
    /// </summary>
    internal Tensor GuidedOutput(Tensor xt, int t, Tensor ids, double guidance)
    {
        using var scope = NewDisposeScope();
        long b = xt.shape[0];
        if (guidance == 1.0)
            return Network.forward(xt, full(new long[] { b }, t, int64, Device), ids).MoveToOuterDisposeScope();
        var both = Network.forward(cat(new[] { xt, xt }, 0), full(new long[] { 2 * b }, t, int64, Device),
            cat(new[] { ids, zeros_like(ids) }, 0));
        var parts = both.chunk(2, 0);
        return (parts[1] + (parts[0] - parts[1]) * guidance).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Generates one image per (prompt, seed) pair. Each image's noise comes from its own generator seeded by its seed,
    /// so an image depends only on its prompt, its seed and the options — not on the batch it was generated in.
    /// </summary>
    public RgbaImage[] Generate(IReadOnlyList<string> prompts, IReadOnlyList<long> seeds, SamplingOptions? options = null,
        IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(seeds);
        if (prompts.Count != seeds.Count)
            throw new ArgumentException($"{prompts.Count} prompts but {seeds.Count} seeds; give one seed per prompt.", nameof(seeds));
        options ??= new SamplingOptions();
        options.Validate();
        var result = new List<RgbaImage>(prompts.Count);
        Network.eval();
        for (int start = 0; start < prompts.Count; start += options.BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            TorchRuntime.FitThreadsToLoad();
            int n = Math.Min(options.BatchSize, prompts.Count - start);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var gens = Enumerable.Range(start, n).Select(i => SeededRandom.Create((ulong)seeds[i])).ToArray();
            var x = SampleLoop(prompts.Skip(start).Take(n).ToList(), gens, options, cancellationToken);
            result.AddRange(ImageTensors.ToImages(x));
            foreach (var g in gens) g.Dispose();
            progress?.Report(result.Count);
        }
        return result.ToArray();
    }

    private Tensor SampleLoop(IReadOnlyList<string> prompts, Generator[] gens, SamplingOptions options, CancellationToken ct)
    {
        int s = Options.UNet.ImageSize, c = Options.UNet.ImageChannels;
        var ids = EncodePrompts(prompts);
        var x = Noise(gens, c, s);
        var ts = Schedule.DdimTimesteps(options.Steps);
        int stride = Schedule.Timesteps / options.Steps;
        foreach (int t in ts)
        {
            ct.ThrowIfCancellationRequested();
            using var stepScope = NewDisposeScope();
            var output = GuidedOutput(x, t, ids, options.GuidanceScale);
            // With η > 0 each image draws its step noise from its own generator, keeping images independent of batching.
            var noise = options.Eta > 0 ? Noise(gens, c, s) : null;
            var step = DdimStep.Step(Schedule, output, x, t, t - stride, options.Eta, Options.Prediction, noise);
            x = step.Sample.MoveToOuterDisposeScope();
        }
        return x;
    }

    /// <summary>One standard-normal image per generator, stacked into [B, C, S, S].</summary>
    internal Tensor Noise(Generator[] gens, int channels, int size) =>
        cat(gens.Select(g => SeededRandom.Randn(new long[] { 1, channels, size, size }, g, Device)).ToArray(), 0);

    /// <summary>Saves the model to one archive file atomically.</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ModelArchive.Write(path, ToEntries());
    }

    /// <summary>The entries of the model file (manifest and weights), for <see cref="Save"/> and saved pipelines.</summary>
    internal Dictionary<string, byte[]> ToEntries() =>
        ModelFile.ToEntries(new Manifest(FormatName, FormatVersion, Options, Tokenizer.Vocabulary.ToArray()), JsonOptions, Network);

    /// <summary>
    /// Loads a model saved by <see cref="Save"/>, checking the format version, the options, the vocabulary and every
    /// tensor's shape against the architecture the options describe.
    /// </summary>
    public static DiffusionModel Load(string path, DiffNftDevice device = DiffNftDevice.Auto) =>
        FromEntries(ModelArchive.Read(path), path, device);

    /// <summary>Builds a model from the entries of a model file; <paramref name="path"/> names it in error messages.</summary>
    internal static DiffusionModel FromEntries(IReadOnlyDictionary<string, byte[]> entries, string path, DiffNftDevice device)
    {
        var manifest = ModelFile.ReadManifest<Manifest>(entries, path, FormatName, FormatVersion, "diffusion model", JsonOptions);
        if (manifest.Options is null || manifest.Vocabulary is null)
            throw new InvalidDataException($"Model file '{path}': the manifest lacks options or vocabulary.");
        PromptTokenizer tokenizer;
        try
        {
            manifest.Options.UNet.Validate();
            tokenizer = PromptTokenizer.FromVocabulary(manifest.Vocabulary);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidDataException)
        {
            throw new InvalidDataException($"Model file '{path}': {ex.Message}", ex);
        }
        var model = new DiffusionModel(manifest.Options, tokenizer, TorchRuntime.Resolve(device));
        // Names, shapes and finiteness checked: a NaN or infinite weight would otherwise generate black images silently.
        // On failure LoadInto disposes the network, which is all the model owns.
        ModelArchive.LoadInto(model.Network, entries, ModelFile.WeightsEntry, path);
        return model;
    }

    /// <inheritdoc/>
    public void Dispose() => Network.Dispose();

    internal static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    private sealed record Manifest(string Format, int Version, DiffusionModelOptions Options, string[] Vocabulary) : IModelManifest;
}
