using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.Reward;
using Microsoft.ML.DiffNft.Reward.Modules;
using Microsoft.ML.DiffNft.Tests.FineTuning;
using Microsoft.ML.DiffNft.Torch;
using Microsoft.ML.DiffNft.TraitClassification;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.Reliability;

/// <summary>
/// One kind of model file the package writes, for the damage sweeps: how to write a small one, and how to load a file of
/// that kind back into the bytes of everything it restores (weights, optimizer state), so that two loads can be compared
/// bit for bit.
/// </summary>
/// <param name="Name">The kind, as the test cases name it.</param>
/// <param name="Extension">The file extension the package uses for it.</param>
/// <param name="Save">Writes a small, deterministic file of this kind.</param>
/// <param name="Load">Loads a file of this kind with the package's loader and returns what it restored, serialised.</param>
public sealed record ModelFileKind(string Name, string Extension, Action<string> Save, Func<string, byte[]> Load)
{
    public override string ToString() => Name;
}

/// <summary>Small, untrained models of every kind (weights from fixed seeds): cheap to write and to load many times.</summary>
internal static class ModelFileKinds
{
    public static readonly ModelFileKind Diffusion = new("diffusion model", ".diffnft", path =>
    {
        using var model = TinyDiffusion(seed: 3);
        model.Save(path);
    }, path =>
    {
        using var model = DiffusionModel.Load(path, DiffNftDevice.Cpu);
        return ModelArchive.SaveTensors(model.Network.state_dict());
    });

    public static readonly ModelFileKind Reward = new("reward model", ".diffnft-reward", path =>
    {
        var vit = VitOptions.For(VitPreset.Tiny);
        var network = TorchRuntime.Seeded(5, () => new RarityNetwork(vit));
        var normalization = new RewardNormalization { PixelMean = [0.1f, -0.2f, 0.3f], PixelStd = [0.5f, 0.6f, 0.7f], ScoreMean = 1, ScoreStd = 0.25 };
        using var model = new RarityRewardModel(vit, normalization, network, CPU, metrics: null);
        model.Save(path);
    }, path =>
    {
        using var model = RarityRewardModel.Load(path, DiffNftDevice.Cpu);
        return ModelArchive.SaveTensors(model.Network.state_dict());
    });

    public static readonly ModelFileKind TraitClassifier = new("trait classifier", ".diffnft-traits", path =>
    {
        TraitHead[] heads = [new("Background", ["Sky", "Grass"]), new("Hat", ["Cap", "Crown", "Bow"])];
        var architecture = new TraitClassifierArchitecture { ImageSize = 16, Width = 4, HiddenSize = 16 };
        var network = TorchRuntime.Seeded(7, () => new TraitClassifierNetwork(architecture, heads.Sum(h => h.ClassCount)));
        using var classifier = new TraitClassification.TraitClassifier(architecture, heads, [0.1f, 0.2f, 0.3f], [0.5f, 0.5f, 0.5f], network, CPU, metrics: null);
        classifier.Save(path);
    }, path =>
    {
        using var classifier = TraitClassification.TraitClassifier.Load(path, DiffNftDevice.Cpu);
        return ModelArchive.SaveTensors(classifier.Network.state_dict());
    });

    /// <summary>
    /// A LoRA fine-tuning checkpoint of <see cref="TinyDiffusion"/>: the adapter factors and the AdamW moments, both made
    /// non-zero so that a damaged value shows. Loading restores them into a fresh policy and optimizer.
    /// </summary>
    public static readonly ModelFileKind FineTuneCheckpoint = new("fine-tune checkpoint", ".ckpt", path =>
    {
        using var model = TinyDiffusion(seed: 3);
        var options = FineTuneTestModels.Fast(iterations: 1);
        using var policy = FineTunePolicy.Create(model, options);
        using var adam = new AdamW(policy.TrainableParameters, options.LearningRate, weightDecay: options.WeightDecay);
        TorchRuntime.Seeded(9, () =>
        {
            using var noGrad = no_grad();
            foreach (var (_, p) in policy.TrainableParameters) p.copy_(randn_like(p));
            return 0;
        });
        var state = new FineTuneState(Iteration: 2, Beta: 0.01, RewardQueries: 16, Tracker: new() { ["a block"] = [0.5, 0.25] }, LogRows: ["1,2,3"]);
        DiffNft.FineTuning.FineTuneCheckpoint.Save(path, Fingerprint(options), state, policy, adam);
    }, path =>
    {
        using var model = TinyDiffusion(seed: 3);
        var options = FineTuneTestModels.Fast(iterations: 1);
        using var policy = FineTunePolicy.Create(model, options);
        using var adam = new AdamW(policy.TrainableParameters, options.LearningRate, weightDecay: options.WeightDecay);
        DiffNft.FineTuning.FineTuneCheckpoint.Load(path, Fingerprint(options), policy, adam);
        var restored = policy.TrainableParameters.ToDictionary(p => "policy." + p.Name, p => p.Parameter, StringComparer.Ordinal);
        var adamState = adam.StateDict();
        try
        {
            foreach (var (k, v) in adamState) restored[k] = v;
            return ModelArchive.SaveTensors(restored);
        }
        finally
        {
            foreach (var v in adamState.Values) v.Dispose();
        }
    });

    /// <summary>Every kind, for theories.</summary>
    public static readonly ModelFileKind[] All = [Diffusion, Reward, TraitClassifier, FineTuneCheckpoint];

    /// <summary>A Tiny diffusion model with weights from <paramref name="seed"/> (untrained: loading is what is tested).</summary>
    public static DiffusionModel TinyDiffusion(int seed)
    {
        var options = new DiffusionModelOptions { UNet = UNetOptions.For(DiffusionPreset.Tiny), Prediction = PredictionType.V };
        var tokenizer = PromptTokenizer.FromCaptions(["a block", "a block, background blue", "a block, background red"]);
        return TorchRuntime.Seeded(seed, () => new DiffusionModel(options, tokenizer, CPU));
    }

    private static FineTuneFingerprint Fingerprint(FineTuneOptions options) =>
        FineTuneFingerprint.From(options, "red", baseModelSha256: new string('0', 64), promptsSha256: new string('1', 64));
}
