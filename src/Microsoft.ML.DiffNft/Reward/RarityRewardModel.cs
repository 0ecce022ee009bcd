using System.Text;
using System.Text.Json;
using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.Reward.Modules;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Reward;

/// <summary>The three outputs of the rarity network for a batch, as tensors on the images' device.</summary>
/// <param name="Reward">The reward [N] of the requested <see cref="RarityRewardKind"/>.</param>
/// <param name="RareProbability">The calibrated probability that each image is rare [N].</param>
/// <param name="Embedding">The pooled ViT embedding [N, Dim], for distances and retrieval.</param>
internal readonly record struct RarityRewardOutput(Tensor Reward, Tensor RareProbability, Tensor Embedding);

/// <summary>
/// A trained rarity reward: a Vision Transformer that predicts from pixels alone how rare an image's traits are. It is
/// the tensor path the RL loop calls on whole batches (<see cref="Score"/>, <see cref="Forward"/>; differentiable with
/// respect to the images), and the model behind <see cref="RarityRewardScorerTransformer"/>. Saved to and loaded from
/// the package's model file (format <c>diffnft.reward</c>).
/// </summary>
/// <remarks>
/// <para><b>Scale.</b> By default the reward is the predicted rarity score as a z-score over the training split
/// (<see cref="RarityRewardKind.ZScore"/>): reward = (predicted score − <see cref="RewardNormalization.ScoreMean"/>) /
/// <see cref="RewardNormalization.ScoreStd"/>. It is calibrated in the sense that matters for a regression — on the
/// validation split its RMSE is reported in these units — and it does not saturate. <see cref="ToRarityScore"/> maps it
/// back to the score. <c>RareProbability</c> is calibrated for the real frequency of rare tokens (class weighting is
/// undone by <see cref="RewardNormalization.RareLogitOffset"/>).</para>
/// <para><b>Preprocessing.</b> Every input goes through <see cref="RewardPreprocessing.Prepare"/>, as in training.</para>
/// <para><b>Gradients.</b> The weights are frozen (no parameter requires a gradient). When the images require a gradient
/// and gradient mode is on, <see cref="Score"/> runs the whole batch in one graph and the result backpropagates to
/// the images; otherwise it runs without a graph in chunks of <see cref="BatchSize"/>.</para>
/// <para>Instances are not thread-safe: torch modules are not.</para>
/// </remarks>
internal sealed class RarityRewardModel : IImageReward, IImageEmbedding, IDisposable
{
    /// <summary>The model-file format name written into every archive.</summary>
    public const string FormatName = "diffnft.reward";

    /// <summary>The model-file format version this build writes and reads.</summary>
    public const int FormatVersion = 1;

    private int _batchSize = 256;

    internal RarityRewardModel(VitOptions options, RewardNormalization normalization, RarityNetwork network, Device device, RewardMetrics? metrics)
    {
        Options = options ?? throw new ArgumentNullException(nameof(options));
        Normalization = normalization ?? throw new ArgumentNullException(nameof(normalization));
        Network = network ?? throw new ArgumentNullException(nameof(network));
        Device = device;
        Metrics = metrics;
        Network.to(device);
        Network.eval();
        // Frozen: no gradient left over from training, and none accumulated when rewards are backpropagated to images.
        Network.zero_grad();
        foreach (var p in Network.parameters()) p.requires_grad = false;
    }

    /// <summary>The ViT architecture.</summary>
    public VitOptions Options { get; }

    /// <summary>The input and output constants learned from the training split.</summary>
    public RewardNormalization Normalization { get; }

    /// <summary>The validation metrics measured when the model was trained (null when unknown).</summary>
    public RewardMetrics? Metrics { get; }

    /// <summary>The device the network lives on.</summary>
    public Device Device { get; }

    /// <summary>Which reward <see cref="Score"/> returns. Default <see cref="RarityRewardKind.ZScore"/>.</summary>
    public RarityRewardKind RewardKind { get; set; } = RarityRewardKind.ZScore;

    /// <summary>Images per forward pass when no gradient is needed. Default 256.</summary>
    public int BatchSize
    {
        get => _batchSize;
        set => _batchSize = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "The batch size must be positive.");
    }

    /// <summary>Number of parameters of the network.</summary>
    public long ParameterCount => Network.parameters().Sum(p => p.numel());

    /// <summary>Width of the embedding vectors.</summary>
    public int EmbeddingSize => Options.Dim;

    /// <inheritdoc/>
    public string Name => "rarity";

    /// <summary>True: the reward is differentiable with respect to the images.</summary>
    public bool IsDifferentiable => true;

    internal RarityNetwork Network { get; }

    /// <summary>Maps a <see cref="RarityRewardKind.ZScore"/> reward back to the rarity score's own scale.</summary>
    public double ToRarityScore(double zScore) => Normalization.ScoreMean + Normalization.ScoreStd * zScore;

    /// <summary>
    /// The reward of each image: float32 [N] on the images' device. <paramref name="images"/> is float [N, 3, H, W] in
    /// [−1, 1], any size (resized by <see cref="RewardPreprocessing.Prepare"/>).
    /// </summary>
    public Tensor Score(Tensor images)
    {
        var output = Forward(images);
        output.RareProbability.Dispose();
        output.Embedding.Dispose();
        return output.Reward;
    }

    /// <summary>The pooled ViT embedding [N, Dim] of each image, without gradients.</summary>
    public Tensor? Embed(Tensor images)
    {
        using var noGrad = no_grad();
        var output = Forward(images);
        output.Reward.Dispose();
        output.RareProbability.Dispose();
        return output.Embedding;
    }

    /// <summary>All three outputs for a batch; see <see cref="Score"/> for inputs, gradients and chunking.</summary>
    /// <param name="images">float [N, 3, H, W] in [−1, 1].</param>
    /// <param name="kind">The reward to return; null for <see cref="RewardKind"/>.</param>
    public RarityRewardOutput Forward(Tensor images, RarityRewardKind? kind = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        var k = kind ?? RewardKind;
        if (!Enum.IsDefined(k)) throw new ArgumentOutOfRangeException(nameof(kind), k, "Unknown reward kind.");
        if (images.requires_grad && is_grad_enabled())
            return Run(images, k);

        using var noGrad = no_grad();
        long n = images.shape.Length > 0 ? images.shape[0] : 0;
        if (n <= BatchSize) return Run(images, k);
        var parts = new List<RarityRewardOutput>();
        try
        {
            for (long start = 0; start < n; start += BatchSize)
            {
                using var chunk = images.narrow(0, start, Math.Min(BatchSize, n - start));
                parts.Add(Run(chunk, k));
            }
            return new RarityRewardOutput(cat(parts.Select(p => p.Reward).ToArray(), 0),
                cat(parts.Select(p => p.RareProbability).ToArray(), 0), cat(parts.Select(p => p.Embedding).ToArray(), 0));
        }
        finally
        {
            foreach (var p in parts)
            {
                p.Reward.Dispose();
                p.RareProbability.Dispose();
                p.Embedding.Dispose();
            }
        }
    }

    /// <summary>
    /// Scores images held in memory: the reward (of <paramref name="kind"/>, default <see cref="RewardKind"/>), the rare
    /// probability and the embedding of each, in input order. Images of one size go through <see cref="Forward"/> in
    /// chunks of <see cref="BatchSize"/>, exactly as a tensor of those images would.
    /// </summary>
    public RarityScores Predict(IReadOnlyList<RgbaImage> images, RarityRewardKind? kind = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        int n = images.Count;
        for (int i = 0; i < n; i++)
            if (images[i] is null) throw new ArgumentException($"Image {i} is null.", nameof(images));
        var rewards = new float[n];
        var probabilities = new float[n];
        var embeddings = new float[n][];
        // Group by size (a tensor holds one size); inside a group, input order is kept, so a collection of one size
        // is scored in the same chunks as the tensor path.
        foreach (var group in Enumerable.Range(0, n).GroupBy(i => (images[i].Width, images[i].Height)))
        {
            var index = group.ToArray();
            for (int start = 0; start < index.Length; start += BatchSize)
            {
                var chunk = index.Skip(start).Take(BatchSize).ToArray();
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                var x = ImageTensors.ToTensor(chunk.Select(i => images[i]).ToList(), Device);
                var o = Forward(x, kind);
                var r = o.Reward.cpu().data<float>().ToArray();
                var p = o.RareProbability.cpu().data<float>().ToArray();
                var e = o.Embedding.cpu().data<float>().ToArray();
                int d = EmbeddingSize;
                for (int j = 0; j < chunk.Length; j++)
                {
                    rewards[chunk[j]] = r[j];
                    probabilities[chunk[j]] = p[j];
                    embeddings[chunk[j]] = e.AsSpan(j * d, d).ToArray();
                }
            }
        }
        return new RarityScores(rewards, probabilities, embeddings);
    }

    private RarityRewardOutput Run(Tensor images, RarityRewardKind kind)
    {
        using var scope = NewDisposeScope();
        var source = images.device;
        var x = images.device == Device ? images : images.to(Device);
        var (embedding, z, rawLogit) = Network.call(RewardPreprocessing.Prepare(x, Options, Normalization));
        var logit = rawLogit + Normalization.RareLogitOffset;
        var reward = kind switch
        {
            RarityRewardKind.ZScore => z,
            RarityRewardKind.RareLogit => logit,
            _ => nn.functional.logsigmoid(logit),
        };
        var probability = logit.sigmoid();
        return new RarityRewardOutput(reward.to(source).MoveToOuterDisposeScope(), probability.to(source).MoveToOuterDisposeScope(),
            embedding.to(source).MoveToOuterDisposeScope());
    }

    /// <summary>Saves the model (options, normalisation constants, weights and validation metrics) to one archive, atomically.</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ModelArchive.Write(path, ToEntries());
    }

    /// <summary>The entries of the model file (manifest, weights, metrics), for <see cref="Save"/> and saved pipelines.</summary>
    internal Dictionary<string, byte[]> ToEntries() =>
        ModelFile.ToEntries(new Manifest(FormatName, FormatVersion, Options, Normalization), DiffusionModel.JsonOptions, Network, Metrics?.ToJson());

    /// <summary>
    /// Loads a model written by <see cref="Save"/>, checking the format name and version, the architecture, the
    /// normalisation constants and every tensor's name and shape; a damaged file gives an <see cref="InvalidDataException"/>
    /// that names it.
    /// </summary>
    public static RarityRewardModel Load(string path, DiffNftDevice device = DiffNftDevice.Auto) =>
        FromEntries(ModelArchive.Read(path), path, device);

    /// <summary>Builds a model from the entries of a model file; <paramref name="path"/> names it in error messages.</summary>
    internal static RarityRewardModel FromEntries(IReadOnlyDictionary<string, byte[]> entries, string path, DiffNftDevice device)
    {
        var manifest = ModelFile.ReadManifest<Manifest>(entries, path, FormatName, FormatVersion, "rarity reward model", DiffusionModel.JsonOptions);
        if (manifest.Vit is null || manifest.Normalization is null)
            throw new InvalidDataException($"Model file '{path}': the manifest lacks the ViT options or the normalisation constants.");
        try
        {
            manifest.Vit.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"Model file '{path}': {ex.Message}", ex);
        }
        manifest.Normalization.Validate($"Model file '{path}'");
        RewardMetrics? metrics = ModelFile.Metrics(entries) is { } m
            ? RewardMetrics.FromJson(m, $"Model file '{path}', entry '{ModelFile.MetricsEntry}'")
            : null;

        var resolved = TorchRuntime.Resolve(device);
        var network = new RarityNetwork(manifest.Vit);
        ModelArchive.LoadInto(network, entries, ModelFile.WeightsEntry, path);
        return new RarityRewardModel(manifest.Vit, manifest.Normalization, network, resolved, metrics);
    }

    /// <inheritdoc/>
    public void Dispose() => Network.Dispose();

    private sealed record Manifest(string Format, int Version, VitOptions Vit, RewardNormalization Normalization) : IModelManifest;
}

/// <summary>Per-image results of <see cref="RarityRewardModel.Predict"/>, in input order.</summary>
/// <param name="Rewards">The reward of each image.</param>
/// <param name="RareProbabilities">The calibrated probability that each image is rare.</param>
/// <param name="Embeddings">The embedding of each image.</param>
internal sealed record RarityScores(float[] Rewards, float[] RareProbabilities, float[][] Embeddings);
